"""File > New from Template: the dialog's preview and opening a template as a new project."""

from __future__ import annotations

from PySide6.QtWidgets import QDialogButtonBox

from cnnstudio.core.analysis import analyze
from cnnstudio.core.summary import human_bytes
from cnnstudio.core.templates import TEMPLATES
from cnnstudio.ui.commands import SetParams
from cnnstudio.ui.template_dialog import PREVIEW_BATCH, TemplateChoice, TemplateDialog
from conftest import LECTURE_FILE, FakePrompter


class TemplatePrompter(FakePrompter):
    def __init__(self, template: TemplateChoice | None, **answers) -> None:
        super().__init__(**answers)
        self.template = template

    def choose_template(self):
        self.questions.append(("template", ""))
        return self.template


def test_dialog_lists_every_template_and_previews_the_chosen_networks_size(qtbot):
    dialog = TemplateDialog()
    qtbot.addWidget(dialog)
    assert [dialog.list.item(row).text() for row in range(dialog.list.count())] == \
        [t.title for t in TEMPLATES.values()]
    dialog.select("resnet50")
    assert (dialog.channels.value(), dialog.height.value(), dialog.width.value(), dialog.classes.value()) == \
        (3, 224, 224, 1000)
    analysis = analyze(TEMPLATES["resnet50"].network())
    assert dialog.preview["params"].text() == f"{analysis.total_params:,} (25,557,032 trainable)"
    assert dialog.preview["macs"].text().startswith(f"{analysis.macs:,} (4.09G)")
    assert dialog.preview["memory"].text() == human_bytes(analysis.memory(PREVIEW_BATCH).total)
    dialog.classes.setValue(10)
    dialog.height.setValue(64)
    dialog.width.setValue(96)
    small = analyze(TEMPLATES["resnet50"].network((3, 64, 96), 10))
    assert dialog.preview["macs"].text().startswith(f"{small.macs:,}")
    assert dialog.preview["output"].text() == "10 class scores"
    assert dialog.choice() == TemplateChoice("resnet50", (3, 64, 96), 10)


def test_dialog_refuses_an_input_too_small_and_says_what_fits(qtbot):
    dialog = TemplateDialog()
    qtbot.addWidget(dialog)
    dialog.select("vgg16")
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    dialog.height.setValue(16)
    assert not ok.isEnabled()
    assert "VGG-16 needs an input of at least 3x32x32" in dialog.problem.text()
    assert dialog.preview["params"].text() == "–"
    dialog.height.setValue(32)
    dialog.width.setValue(32)
    assert ok.isEnabled() and dialog.problem.text() == ""


def test_new_from_template_asks_about_unsaved_work_then_opens_an_untitled_project(make_window):
    choice = TemplateChoice("resnet18", (3, 96, 96), 5)
    window = make_window()
    window.prompter = TemplatePrompter(choice, save_changes="cancel")
    window.open_path(LECTURE_FILE)
    conv = window.document.network.node_by_name("conv2d_1").id
    window.document.push(SetParams(window.document.network, conv, {"filters": 8}))
    before = window.document.network.to_dict()

    window.new_template_action.trigger()
    assert window.prompter.questions[-2:] == [("template", ""), ("save_changes", "lecture_mnist.cnnproj")]
    assert window.document.network.to_dict() == before  # cancelled: the edited project stays

    window.prompter.save_changes = "discard"
    window.new_template_action.trigger()
    document = window.document
    assert document.network.same_as(TEMPLATES["resnet18"].network((3, 96, 96), 5))
    assert document.path is None and not document.modified and document.undo_stack.count() == 0
    assert document.display_name == "ResNet-18" and document.num_classes == 5
    assert document.analysis.ok


def test_cancelling_the_dialog_asks_nothing_else(window):
    window.prompter = TemplatePrompter(None)
    window.new_template_action.trigger()
    assert window.prompter.questions == [("template", "")]
