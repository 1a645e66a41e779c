/**
 * The command table: name, one-line summary and a loader. Modules are imported only when their
 * command runs (or its help is asked for), so a one-off `toold call` loads one command module.
 */
import type { CommandEntry } from "../command.js";

export const COMMANDS: readonly CommandEntry[] = [
  {
    name: "start",
    summary: "start the daemon for this workspace (idempotent)",
    load: async () => (await import("./start.js")).start,
  },
  {
    name: "stop",
    summary: "drain and stop the daemon (--all: every daemon of yours)",
    load: async () => (await import("./stop.js")).stop,
  },
  { name: "restart", summary: "stop, then start", load: async () => (await import("./start.js")).restart },
  {
    name: "status",
    summary: "pid, version, uptime, workspace, socket, connections",
    load: async () => (await import("./status.js")).status,
  },
  { name: "call", summary: "one tool call", load: async () => (await import("./call.js")).call },
  { name: "ps", summary: "every daemon of this user", load: async () => (await import("./ps.js")).ps },
  {
    name: "tools",
    summary: "the tools with their arguments (one tool: tools NAME)",
    load: async () => (await import("./tools.js")).tools,
  },
  {
    name: "stats",
    summary: "the daemon's statistics (--watch, --prometheus)",
    load: async () => (await import("./stats.js")).stats,
  },
  {
    name: "sessions",
    summary: "the exec sessions the daemon holds; sessions kill ID ends one",
    load: async () => (await import("./sessions.js")).sessions,
  },
  {
    name: "logs",
    summary: "the daemon's log (-f follows)",
    load: async () => (await import("./logs.js")).logs,
  },
  {
    name: "history",
    summary: "the journal of changes made through toold, newest first",
    load: async () => (await import("./history.js")).history,
  },
  {
    name: "undo",
    summary: "take back a change made through toold (default the newest)",
    load: async () => (await import("./undo.js")).undo,
  },
  { name: "config", summary: "config get | reload", load: async () => (await import("./config.js")).config },
  {
    name: "socket",
    summary: "print the socket path",
    load: async () => (await import("./socket.js")).socket,
  },
  {
    name: "mcp",
    summary: "MCP server on stdio that forwards to the daemon",
    load: async () => (await import("./mcp.js")).mcp,
  },
  {
    name: "completion",
    summary: "shell completion script (bash or zsh)",
    load: async () => (await import("./completion.js")).completion,
  },
  { name: "help", summary: "help for one command", load: async () => (await import("./help.js")).help },
];
