// Layers of src/, each importing only from those before it (docs/architecture.md):
//   protocol → support → workspace, config → cache, search, index, exec, journal → tools
//   → policy → dispatch → daemon
// client, cli and mcp (the callers' side) import protocol, support, the locating code (locate, socket-dir, registry) and client.
const layers = [
  ["protocol"],
  ["support", "version\\.ts"],
  ["workspace", "config"],
  ["cache", "search", "index", "exec", "journal"],
  ["tools"],
  ["policy"],
  ["dispatch"],
  ["daemon"],
];
const alt = (names) => `^src/(${names.join("|")})(/|$)`;
const layerRules = layers.slice(0, -1).map((own, i) => ({
  name: `layer-${own[0]}`,
  comment: `${own.join(", ")} may import only layers before it, never ${layers
    .slice(i + 1)
    .flat()
    .join(", ")}`,
  severity: "error",
  from: { path: alt(own) },
  to: { path: alt([...layers.slice(i + 1).flat(), "client", "cli", "mcp"]) },
}));

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: "protocol-imports-nothing",
      comment: "protocol is the wire's vocabulary: it imports nothing of ours outside itself",
      severity: "error",
      from: { path: "^src/protocol/" },
      to: { path: "^src/", pathNot: "^src/protocol/" },
    },
    {
      name: "callers-side",
      comment:
        "client, cli and mcp talk to the daemon over the wire: they use protocol, support, the locating code and the client",
      severity: "error",
      from: { path: "^src/(client|cli|mcp)/" },
      to: {
        path: "^src/",
        pathNot: [
          "^src/(protocol|support|client|cli|mcp)/",
          "^src/version\\.ts$",
          "^src/workspace/(locate|socket-dir|registry)\\.ts$",
          // `toold config check` validates vtcode.toml without a daemon.
          "^src/config/",
          // `toold start --foreground` runs the daemon's composition root in this process.
          "^src/daemon/main\\.ts$",
        ],
      },
    },
    {
      name: "tools-never-import-tools",
      comment: "one file per tool; what two tools share lives in src/tools/shared/",
      severity: "error",
      from: { path: "^src/tools/(shared/|(?!index\\.ts|registry\\.ts)[^/]+\\.ts$)" },
      to: { path: "^src/tools/(?!shared/)[^/]+\\.ts$" },
    },
    {
      name: "no-circular",
      severity: "error",
      from: { path: "^src/" },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    includeOnly: "^src/",
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default"],
    },
  },
};
