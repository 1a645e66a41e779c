/** A path a tool may not use (outside the workspace, protected, swapped under us): the tool's own failure, shown to the caller. */
export class PathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PathError";
  }
}
