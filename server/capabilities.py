"""What the connected client can do, resolved once at initialize (Ruff-style); every feature branches on it."""

from __future__ import annotations

from dataclasses import dataclass

from lsprotocol import types


@dataclass(frozen=True)
class ClientFeatures:
    pull_diagnostics: bool = False
    diagnostic_refresh: bool = False
    related_information: bool = True
    versioned_publish: bool = True
    work_done_progress: bool = False
    show_document: bool = False
    show_message_actions: bool = True
    apply_edit: bool = False
    document_changes: bool = False
    create_files: bool = False
    resolve_edits: bool = False
    code_action_literals: bool = True
    change_annotations: bool = False  # workspaceEdit.changeAnnotationSupport: edits the user previews first

    @classmethod
    def from_capabilities(cls, caps: types.ClientCapabilities) -> ClientFeatures:
        text = caps.text_document
        workspace = caps.workspace
        window = caps.window
        publish = text.publish_diagnostics if text else None
        action = text.code_action if text else None
        edit = workspace.workspace_edit if workspace else None
        resolve = action.resolve_support if action else None
        return cls(
            pull_diagnostics=bool(text and text.diagnostic is not None),
            diagnostic_refresh=bool(workspace and workspace.diagnostics and workspace.diagnostics.refresh_support),
            related_information=bool(publish and publish.related_information) if publish else True,
            versioned_publish=bool(publish and publish.version_support),
            work_done_progress=bool(window and window.work_done_progress),
            show_document=bool(window and window.show_document and window.show_document.support),
            show_message_actions=bool(window is None or window.show_message is None
                                      or window.show_message.message_action_item is not None),
            apply_edit=bool(workspace and workspace.apply_edit),
            document_changes=bool(edit and edit.document_changes),
            create_files=bool(edit and edit.resource_operations
                              and types.ResourceOperationKind.Create in edit.resource_operations),
            resolve_edits=bool(action and action.data_support and resolve and "edit" in resolve.properties),
            code_action_literals=bool(action and action.code_action_literal_support),
            change_annotations=bool(edit and edit.change_annotation_support is not None),
        )
