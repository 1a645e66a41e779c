// A minimal VS Code extension on toold's client library: three palette commands, one daemon
// connection (started on first use, reopened after a daemon restart), results in an output channel.
import * as vscode from "vscode";
// toold is an ES module; this extension compiles to CommonJS, so it loads it with import().
import type { ToolDClient, ToolResult } from "toold/client" with { "resolution-mode": "import" };

let client: Promise<ToolDClient> | undefined;
let output: vscode.OutputChannel;

function connect(): Promise<ToolDClient> {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) return Promise.reject(new Error("open a folder first"));
  client ??= import("toold/client")
    .then(({ ToolDClient }) =>
      ToolDClient.connect({
        workspace: folder.uri.fsPath,
        clientInfo: { name: "toold-vscode-example", version: "0.0.1" },
        reconnect: true,
        // Tools under a "prompt" policy (run_terminal_cmd, delete_file by default) ask here.
        onApprove: async ({ tool, arguments: args, reason }) => {
          const detail = `${JSON.stringify(args, null, 2)}\n\n(${reason})`;
          return (
            (await vscode.window.showWarningMessage(`Allow ${tool}?`, { modal: true, detail }, "Allow")) ===
            "Allow"
          );
        },
      }),
    )
    .catch((err: unknown) => {
      client = undefined; // try again next time
      throw err;
    });
  return client;
}

function show(title: string, result: ToolResult): void {
  output.appendLine(`── ${title}${result.isError ? " (failed)" : ""}`);
  output.appendLine(result.content.map((c) => c.text).join(""));
  output.show(true);
}

/** Runs one tool call with a cancellable notification; streamed progress goes to the channel. */
async function callWithProgress(title: string, tool: string, args: Record<string, unknown>): Promise<void> {
  await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title, cancellable: true },
    async (_progress, token) => {
      const abort = new AbortController();
      token.onCancellationRequested(() => abort.abort());
      try {
        const c = await connect();
        const result = await c.callTool(tool, args, {
          signal: abort.signal,
          onProgress: (value) => {
            const chunk = (value as { chunk?: unknown }).chunk;
            if (typeof chunk === "string") output.append(chunk);
          },
        });
        show(title, result);
      } catch (err) {
        if (abort.signal.aborted) output.appendLine(`── ${title}: cancelled`);
        else void vscode.window.showErrorMessage(`toold: ${(err as Error).message}`);
      }
    },
  );
}

export function activate(context: vscode.ExtensionContext): void {
  output = vscode.window.createOutputChannel("toold");
  context.subscriptions.push(
    output,
    vscode.commands.registerCommand("toold.grep", async () => {
      const pattern = await vscode.window.showInputBox({ prompt: "Search the workspace (regex)" });
      if (pattern) await callWithProgress(`grep ${pattern}`, "grep_file", { pattern });
    }),
    vscode.commands.registerCommand("toold.run", async () => {
      const command = await vscode.window.showInputBox({ prompt: "Command to run in the workspace" });
      if (command) await callWithProgress(`$ ${command}`, "run_terminal_cmd", { command });
    }),
    vscode.commands.registerCommand("toold.stats", async () => {
      try {
        const stats = await (await connect()).stats();
        output.appendLine(`── stats\n${JSON.stringify(stats, null, 2)}`);
        output.show(true);
      } catch (err) {
        void vscode.window.showErrorMessage(`toold: ${(err as Error).message}`);
      }
    }),
    {
      dispose: () =>
        void client?.then(
          (c) => c.close(),
          () => undefined,
        ),
    },
  );
}

export function deactivate(): void {
  void client?.then(
    (c) => c.close(),
    () => undefined,
  );
}
