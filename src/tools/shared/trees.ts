/** The search trees of a call (see ToolContext.trees): the context's own, or one made from its parts. */
import { SearchTrees } from "../../index/indexed-source.js";
import type { FileCache } from "../../cache/file-cache.js";
import type { WorkspaceIndex } from "../../index/workspace-index.js";
import type { ToolContext } from "./types.js";

/** One per (cache, index) pair (and cold pool), so nothing is rebuilt per call. */
const made = new WeakMap<FileCache, Map<WorkspaceIndex | undefined, SearchTrees>>();

export function searchTrees(ctx: ToolContext): SearchTrees {
  if (ctx.trees) return ctx.trees;
  let byIndex = made.get(ctx.files);
  if (!byIndex) made.set(ctx.files, (byIndex = new Map()));
  let trees = byIndex.get(ctx.index);
  if (!trees || trees.cold !== ctx.coldSearch) {
    const index = ctx.index;
    trees = new SearchTrees({
      root: ctx.workspace.root,
      files: ctx.files,
      pool: ctx.pool,
      index: () => index,
      ...(ctx.coldSearch ? { cold: ctx.coldSearch } : {}),
    });
    // An index replaced on reload is dropped with its trees (the map holds few entries).
    if (byIndex.size > 4) byIndex.clear();
    byIndex.set(index, trees);
  }
  return trees;
}
