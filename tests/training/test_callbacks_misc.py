"""The callback protocol, LambdaCallback, RemoteMonitor, ProgbarLogger and SwapEMAWeights."""

from __future__ import annotations

import io
import json
import socket
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import torch

from cnnstudio.training.callbacks import (Callback, CallbackList, History, LambdaCallback, ProgbarLogger,
                                          RemoteMonitor, SwapEMAWeights)
from tiny_runs import band_data, same_weights, trainer, weights_of

X, Y = band_data(64)
VALIDATION = band_data(48, seed=1)


# ---------------------------------------------------------------------- protocol

def test_only_callbacks_that_override_a_hook_are_called_for_it():
    class EpochOnly(Callback):
        def on_epoch_end(self, epoch, logs=None):
            pass

    class OldStyle(Callback):
        def on_batch_end(self, batch, logs=None):  # Keras's old name for on_train_batch_end
            self.seen = batch

    old = OldStyle()
    callbacks = CallbackList([EpochOnly(), old])
    assert callbacks.wants("on_epoch_end") and callbacks.wants("on_train_batch_end")
    assert not callbacks.wants("on_test_batch_end")
    assert not CallbackList([EpochOnly()]).wants("on_train_batch_end")
    callbacks.on_train_batch_end(4, {})
    assert old.seen == 4


def test_hook_order_puts_history_and_backups_last():
    class Backup(Callback):
        hook_order = 2

    first, backup, history = Callback(), Backup(), History()
    assert CallbackList([backup, history, first]).callbacks == [first, history, backup]


def test_callbacks_get_the_trainer_model_and_params():
    seen = {}

    class Look(Callback):
        def on_train_begin(self, logs=None):
            seen.update(params=dict(self.params), model=self.model, trainer=self.trainer)

    run = trainer([Look()], epochs=2, batch_size=32)
    run.fit(X, Y, validation_data=VALIDATION)
    assert seen["params"] == {"epochs": 2, "steps": 2, "samples": 64, "batch_size": 32, "validation": True,
                              "verbose": 1}
    assert seen["model"] is run.model and seen["trainer"] is run


def test_lambda_callback_takes_any_hook_and_refuses_unknown_names():
    events = []
    callback = LambdaCallback(on_train_begin=lambda logs: events.append("begin"),
                              on_epoch_end=lambda epoch, logs: events.append(("epoch", epoch, sorted(logs))),
                              on_test_end=lambda logs: events.append("test"))
    trainer([callback], epochs=1).fit(X, Y, validation_data=VALIDATION)
    assert events == ["begin", "test", ("epoch", 0, ["accuracy", "loss", "lr", "val_accuracy", "val_loss"])]
    with pytest.raises(TypeError, match="not a callback hook"):
        LambdaCallback(on_epoch_finish=print)


def test_non_callbacks_are_refused():
    with pytest.raises(TypeError, match="Callback instances"):
        CallbackList([print])


# ---------------------------------------------------------------------- RemoteMonitor

class Recorder(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):  # noqa: N802 - the name http.server calls
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, dict(self.headers), body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    Recorder.received = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", Recorder.received
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def test_remote_monitor_posts_each_epoch_as_a_form_field(server):
    root, received = server
    monitor = RemoteMonitor(root=root, headers={"X-Run": "lecture"})
    history = trainer([monitor], epochs=2).fit(X, Y)
    assert len(received) == 2 and monitor.failures == 0
    path, headers, body = received[1]
    assert path == "/publish/epoch/end/" and headers["X-Run"] == "lecture"
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    sent = json.loads(urllib.parse.parse_qs(body.decode())["data"][0])
    assert sent["epoch"] == 1 and sent["loss"] == pytest.approx(history.history["loss"][1])


def test_remote_monitor_can_send_json(server):
    root, received = server
    trainer([RemoteMonitor(root=root, path="/logs", send_as_json=True)], epochs=1).fit(X, Y)
    path, headers, body = received[0]
    assert path == "/logs" and headers["Content-Type"] == "application/json"
    assert set(json.loads(body)) == {"epoch", "loss", "accuracy", "lr"}


def test_a_dead_server_only_warns_and_training_goes_on():
    with socket.socket() as probe:  # a port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monitor = RemoteMonitor(root=f"http://127.0.0.1:{port}", timeout=2)
    with pytest.warns(RuntimeWarning, match="Could not reach RemoteMonitor root server"):
        history = trainer([monitor], epochs=2).fit(X, Y)
    assert history.epoch == [0, 1] and monitor.failures == 2


def test_remote_monitor_refuses_other_schemes():
    with pytest.raises(ValueError, match="http"):
        RemoteMonitor(root="file:///etc")


# ---------------------------------------------------------------------- ProgbarLogger

def test_progress_bar_shows_eta_and_samples_per_second_on_a_terminal():
    out = io.StringIO()
    trainer([ProgbarLogger(stream=out, interactive=True, updates_per_second=0)], epochs=2,
            batch_size=16).fit(X, Y, validation_data=VALIDATION)
    text = out.getvalue()
    assert text.startswith("Epoch 1/2\n") and "Epoch 2/2\n" in text
    assert "\r1/4 [=======>......................]  25% - ETA: " in text
    assert "samples/s - loss: " in text
    final = text.split("\r")[-1]
    assert final.startswith("4/4 [==============================] - ") and "ms/step" in final
    assert "val_accuracy: " in final and final.endswith("\n")


def test_progress_bar_redraws_at_most_about_ten_times_a_second(monkeypatch):
    # a scripted clock: each batch takes 20 ms, so 256 batches span about 5 s of "time"
    now = [0.0]
    monkeypatch.setattr("cnnstudio.training.callbacks.progbar.time.monotonic", lambda: now[0])
    tick = LambdaCallback(on_train_batch_begin=lambda batch, logs: now.__setitem__(0, now[0] + 0.02))
    out = io.StringIO()
    bar = ProgbarLogger(stream=out, interactive=True)
    x, y = band_data(1024)
    trainer([tick, bar], epochs=1, batch_size=4).fit(x, y)  # 256 batches
    # one redraw per 0.1 s of the scripted clock (every 5th batch), plus the last batch
    assert 256 // 5 - 2 <= bar.updates <= 256 // 5 + 2
    assert out.getvalue().count("\r") == bar.updates + 1  # each update and the epoch's final line


def test_progress_to_a_file_writes_one_line_per_epoch():
    out = io.StringIO()
    trainer([ProgbarLogger(stream=out)], epochs=2).fit(X, Y)
    lines = out.getvalue().splitlines()
    assert "\r" not in out.getvalue() and len(lines) == 4
    assert lines[0] == "Epoch 1/2" and lines[1].startswith("2/2 [") and "loss: " in lines[1]


def test_progress_reports_a_stopped_run_and_a_standalone_evaluation():
    out = io.StringIO()

    def stop(batch, logs):
        if batch == 0:
            run.request_stop()

    run = trainer([ProgbarLogger(stream=out, interactive=True), LambdaCallback(on_train_batch_end=stop)],
                  batch_size=16)
    run.fit(X, Y)
    assert out.getvalue().endswith("\nStopped at epoch 1, batch 1.\n")
    run.evaluate(*VALIDATION)
    assert out.getvalue().splitlines()[-1].startswith("3/3 - loss: ")


# ---------------------------------------------------------------------- SwapEMAWeights

def test_ema_weights_are_used_for_validation_without_changing_training():
    x, y = band_data(160)
    plain = trainer(epochs=3)
    plain_history = plain.fit(x, y, validation_data=VALIDATION)

    at_validation = []
    ema = SwapEMAWeights(decay=0.9)
    run = trainer([ema, LambdaCallback(on_test_begin=lambda logs: at_validation.append(weights_of(run.model)))],
                  epochs=3)
    history = run.fit(x, y, validation_data=VALIDATION)

    assert history.history["loss"] == plain_history.history["loss"]  # training itself is untouched
    assert history.history["val_loss"] != plain_history.history["val_loss"]  # validation saw the average
    # during validation the model held the average, not the training weights
    shadow_now = dict(zip([k for k, _ in run.model.named_parameters()], ema.ema.shadow))
    assert all(torch.equal(at_validation[-1][key], value) for key, value in shadow_now.items())
    # the finished model keeps the average (as a Keras model with use_ema does), unlike the plain run
    assert not same_weights(weights_of(run.model), weights_of(plain.model))
    assert run.evaluate(*VALIDATION)["loss"] == pytest.approx(history.history["val_loss"][-1])


def test_swap_on_epoch_lets_a_later_callback_save_the_average(tmp_path):
    from cnnstudio.training.callbacks import ModelCheckpoint
    from cnnstudio.training.weights import load_model

    ema = SwapEMAWeights(decay=0.5, swap_on_epoch=True)
    checkpoint = ModelCheckpoint(tmp_path / "e{epoch}.pt")
    raw = []
    run = trainer([LambdaCallback(on_epoch_end=lambda e, logs: raw.append(weights_of(run.model))), ema, checkpoint],
                  epochs=2)
    run.fit(X, Y, validation_data=VALIDATION)
    _, saved = load_model(tmp_path / "e1.pt")
    assert not same_weights(weights_of(saved), raw[0])  # epoch 1's file holds the average
    _, last = load_model(tmp_path / "e2.pt")
    assert same_weights(weights_of(last), weights_of(run.model))


def test_ema_decay_must_be_below_one():
    with pytest.raises(ValueError, match="decay"):
        SwapEMAWeights(decay=1.0)
