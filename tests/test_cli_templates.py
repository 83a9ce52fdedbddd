"""`python -m cnnstudio templates` and `new --template`: the gallery from the command line."""

from __future__ import annotations

import pytest

from cnnstudio.cli import main
from cnnstudio.core.analysis import analyze
from cnnstudio.core.project import load_project
from cnnstudio.core.templates import TEMPLATES


def run(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_templates_lists_every_template_with_its_size(capsys):
    code, out, _ = run(capsys, "templates")
    assert code == 0
    rows = [line for line in out.splitlines() if not line.startswith(" ")]
    assert [row.split()[0] for row in rows] == list(TEMPLATES)
    lecture = next(row for row in rows if row.startswith("lecture "))
    assert "1x28x28" in lecture and "93,322 params" in lecture
    assert "torchvision" in out and "v1.5" in out  # descriptions say where torchvision differs from the paper


def test_new_writes_a_project_that_opens_with_the_template_network(tmp_path, capsys):
    target = tmp_path / "r18.cnnproj"
    code, out, err = run(capsys, "new", "--template", "ResNet-18", "--input", "3,64,64", "--classes", "5",
                         "-o", target)
    assert (code, err) == (0, "")
    assert out.startswith(f"wrote {target} (ResNet-18, input 3x64x64, 5 classes")
    project = load_project(target)
    expected = TEMPLATES["resnet18"].network((3, 64, 64), 5)
    assert project.network.same_as(expected)
    assert project.name == "ResNet-18" and project.dataset == {"num_classes": 5}
    assert analyze(project.network, num_classes=5).ok


def test_new_uses_the_templates_default_input_and_classes(tmp_path, capsys):
    code, out, _ = run(capsys, "new", "--template", "lecture", "-o", tmp_path / "l.cnnproj")
    assert code == 0 and "input 1x28x28, 10 classes, 93,322 params" in out


def test_new_never_overwrites_without_force(tmp_path, capsys):
    target = tmp_path / "taken.cnnproj"
    target.write_text("keep me")
    code, _, err = run(capsys, "new", "--template", "lenet5", "-o", target)
    assert code == 2 and "already exists; pass --force" in err and target.read_text() == "keep me"
    code, _, _ = run(capsys, "new", "--template", "lenet5", "-o", target, "--force")
    assert code == 0 and load_project(target).name == "LeNet-5"


@pytest.mark.parametrize("args, words", [
    (["--template", "resnet51"], "there is no template 'resnet51'; did you mean resnet50"),
    (["--template", "lenet5", "--input", "1,28,28"], "LeNet-5 needs an input of at least 1x32x32; 1x28x28 is too small"),
    (["--template", "vgg16", "--input", "3,16,16"], "VGG-16 needs an input of at least 3x32x32"),
    (["--template", "alexnet", "--input", "3,224"], "needs an image input C,H,W"),
])
def test_bad_requests_exit_2_with_one_line(tmp_path, capsys, args, words):
    target = tmp_path / "x.cnnproj"
    code, out, err = run(capsys, "new", *args, "-o", target)
    assert code == 2 and out == ""
    assert words in err and err.count("\n") == 1 and "Traceback" not in err
    assert not target.exists()
