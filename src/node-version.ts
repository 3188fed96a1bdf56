/**
 * Node 24 LTS is what Wharf runs on; 22 works. Older ones stop here, saying so, not later with a
 * riddle (Node 20 crashes loading the dependencies). Imported first by the entry points: the check
 * runs before anything else is loaded.
 */
export const MIN_NODE_MAJOR = 22;
// pg-boss (the job queue) needs 22.12: require() of ES modules without a flag.
export const MIN_NODE_22_MINOR = 12;

export function assertSupportedNode(version = process.versions.node): void {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  if (major > MIN_NODE_MAJOR || (major === MIN_NODE_MAJOR && minor >= MIN_NODE_22_MINOR)) return;
  process.stderr.write(`Wharf needs Node.js ${MIN_NODE_MAJOR}.${MIN_NODE_22_MINOR} or later (24 LTS recommended); this is Node.js ${version} (${process.execPath}).\n`);
  process.exit(1);
}

assertSupportedNode();
