/**
 * Node 24 LTS is what Wharf runs on; 22 works. Older ones stop here, saying so, not later with a
 * riddle (Node 20 crashes loading the dependencies). Imported first by the entry points: the check
 * runs before anything else is loaded.
 */
export const MIN_NODE_MAJOR = 22;

export function assertSupportedNode(version = process.versions.node): void {
  const major = Number(version.split('.')[0]);
  if (major >= MIN_NODE_MAJOR) return;
  process.stderr.write(`Wharf needs Node.js ${MIN_NODE_MAJOR} or later (24 LTS recommended); this is Node.js ${version} (${process.execPath}).\n`);
  process.exit(1);
}

assertSupportedNode();
