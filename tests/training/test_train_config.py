"""TrainConfig: Keras's defaults, the project file's ``training`` object, clear refusals."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from cnnstudio.training.config import TrainConfig


def test_defaults_are_the_lectures_compile_and_fit():
    config = TrainConfig()
    assert (config.optimizer, config.batch_size, config.epochs) == ("rmsprop", 64, 5)
    # keras.optimizers.RMSprop(learning_rate=0.001, rho=0.9, epsilon=1e-07)
    assert (config.learning_rate, config.rho, config.epsilon, config.momentum) == (0.001, 0.9, 1e-7, 0.0)
    assert (config.validation_split, config.shuffle, config.device, config.precision) == (0.0, True, "auto", "float32")


@pytest.mark.parametrize("optimizer, lr, weight_decay", [("sgd", 0.01, 0.0), ("adam", 0.001, 0.0),
                                                          ("adamw", 0.001, 0.004), ("rmsprop", 0.001, 0.0)])
def test_each_optimizer_gets_its_keras_defaults(optimizer, lr, weight_decay):
    config = TrainConfig(optimizer=optimizer)
    assert (config.learning_rate, config.weight_decay) == (lr, weight_decay)
    assert TrainConfig.from_dict({"optimizer": optimizer}).learning_rate == lr
    assert TrainConfig(optimizer="rmsprop", learning_rate=0.5).with_optimizer(optimizer).learning_rate == lr


def test_optimizer_settings_lists_what_the_optimizer_reads():
    assert set(TrainConfig(optimizer="sgd").optimizer_settings()) == {"learning_rate", "momentum", "nesterov",
                                                                      "weight_decay"}
    assert "rho" in TrainConfig().optimizer_settings()


def test_round_trip_through_the_project_file_json():
    config = TrainConfig(optimizer="sgd", learning_rate=0.05, momentum=0.9, nesterov=True, batch_size=16,
                         epochs=2, validation_split=0.25, seed=3, deterministic=True, device="cpu",
                         precision="bfloat16")
    data = json.loads(json.dumps(config.to_dict()))
    assert TrainConfig.from_dict(data) == config


def test_missing_or_empty_settings_give_the_defaults():
    assert TrainConfig.from_dict(None) == TrainConfig() == TrainConfig.from_dict({})


@pytest.mark.parametrize("data, words", [
    ({"batch_size": 0}, "training.batch_size must be a whole number >= 1, not 0"),
    ({"batch_size": 2.5}, "training.batch_size"),
    ({"epochs": "5"}, "training.epochs"),
    ({"learning_rate": 0}, "training.learning_rate must be > 0"),
    ({"learning_rate": float("nan")}, "training.learning_rate must be a finite number"),
    ({"validation_split": 1.0}, "training.validation_split must be >= 0 and < 1"),
    ({"momentum": -0.1}, "training.momentum"),
    ({"optimizer": "adagrad"}, "training.optimizer must be one of 'sgd', 'adam', 'adamw', 'rmsprop'"),
    ({"device": "tpu"}, "training.device must be one of"),
    ({"precision": "int8"}, "training.precision must be one of"),
    ({"shuffle": "yes"}, "training.shuffle must be true or false"),
    ({"seed": -1}, "training.seed"),
    ({"lr": 0.1, "learning_rate": 0.2}, "'lr' and 'learning_rate' name the same setting"),
    ({"rate": 0.1}, "unknown field 'rate'"),
    ({"batchsize": 8}, "did you mean 'batch_size'"),
    ({"optimizer": "sgd", "nesterov": True}, "nesterov needs training.momentum > 0"),
])
def test_bad_settings_are_refused_naming_the_field(data, words):
    with pytest.raises(ValueError, match=None) as caught:
        TrainConfig.from_dict(data)
    assert words in str(caught.value)


def test_the_cli_spelling_lr_is_accepted_for_learning_rate():
    assert TrainConfig.from_dict({"lr": 0.05}).learning_rate == 0.05
    assert TrainConfig().with_settings(lr=0.2).learning_rate == 0.2
    with pytest.raises(TypeError, match="did you mean 'learning_rate'"):
        TrainConfig().with_settings(learning_rte=0.2)


def test_float16_on_the_cpu_is_refused_with_a_reason():
    with pytest.raises(ValueError, match="float16.*needs a GPU.*bfloat16"):
        TrainConfig(device="cpu", precision="float16")


def test_deterministic_mode_without_a_seed_uses_seed_0():
    assert TrainConfig(deterministic=True).effective_seed == 0
    assert TrainConfig().effective_seed is None
    assert TrainConfig(seed=5).effective_seed == 5


def test_the_config_module_does_not_load_torch():
    code = "import sys, cnnstudio.training.config; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
