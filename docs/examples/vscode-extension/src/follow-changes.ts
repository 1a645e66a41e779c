// Refreshes the open buffers when files change on disk (anyone's change: the daemon's watcher),
// and offers to undo the agent's changes (those made through toold carry their journal entry).
// Call it once from activate(): `void connect().then((c) => followChanges(c, folder.uri.fsPath))`.
import * as vscode from "vscode";
import path from "node:path";
import type { ToolDClient, WorkspaceDidChangeParams } from "toold/client" with {
  "resolution-mode": "import",
};

export async function followChanges(client: ToolDClient, root: string): Promise<void> {
  const { ErrorCodes, RpcError } = await import("toold/client");
  const refresh = async (params: WorkspaceDidChangeParams): Promise<void> => {
    // "overflow": too much changed to list (or changes were missed): refresh everything.
    const everything = params.changes.some((c) => c.kind === "overflow");
    for (const doc of vscode.workspace.textDocuments) {
      const rel = path.relative(root, doc.uri.fsPath).split(path.sep).join("/");
      const changed = params.changes.some((c) => c.path === rel || rel.startsWith(`${c.path}/`));
      if (!everything && !changed) continue;
      if (doc.isDirty) {
        void vscode.window.showWarningMessage(`${rel} changed on disk while you were editing it`);
      } else {
        // Re-read the buffer from disk. (Neovim: :checktime; Emacs: revert-buffer.)
        await vscode.window.showTextDocument(doc, { preview: false, preserveFocus: true });
        await vscode.commands.executeCommand("workbench.action.files.revert");
      }
    }
    const entries = new Set(params.changes.flatMap((c) => (c.changeId === undefined ? [] : [c.changeId])));
    for (const id of entries) {
      const files = params.changes.filter((c) => c.changeId === id).map((c) => c.path);
      if (
        (await vscode.window.showInformationMessage(`The agent changed ${files.join(", ")}`, "Undo")) !==
        "Undo"
      )
        continue;
      try {
        await client.undo({ id });
      } catch (err) {
        // A file was changed again since: the daemon names it and restores nothing.
        if (!(err instanceof RpcError) || err.code !== ErrorCodes.JournalConflict) throw err;
        if ((await vscode.window.showWarningMessage(err.message, "Undo anyway")) === "Undo anyway")
          await client.undo({ id, force: true });
      }
    }
    // The daemon ended the subscription (this window read too slowly): subscribe again.
    if (params.dropped !== undefined) await client.subscribe();
  };
  await client.subscribe((params) => {
    refresh(params).catch((err: Error) => void vscode.window.showErrorMessage(`toold: ${err.message}`));
  });
}
