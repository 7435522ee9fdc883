// node verify_models.js REPO_DIR
//
// Checks, with the independent @tufjs/models implementation, that every metadata
// file an Upkeep repository holds is valid TUF metadata, signed by the threshold of
// the keys that delegate it:
//   - each N.root.json parses, is signed by its own threshold and, for N > 1, by the
//     threshold of root N-1 (the spec's rotation rule);
//   - timestamp.json, every N.snapshot.json and N.targets.json verify under some root
//     of the chain (older versions may predate a key rotation);
//   - every delegated N.ROLE.json verifies under some version of a role that
//     delegates ROLE.
// Prints one line per file and a summary; exits 1 on the first file no key set accepts.
'use strict';
const fs = require('fs');
const path = require('path');
const { Metadata, MetadataKind } = require('@tufjs/models');

const repo = process.argv[2];
if (!repo) {
  console.error('usage: node verify_models.js REPO_DIR');
  process.exit(2);
}
const dir = path.join(repo, 'metadata');
const load = (file, kind) =>
  Metadata.fromJSON(kind, JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')));
const die = (msg) => {
  console.error('verify_models: ' + msg);
  process.exit(1);
};

const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
const versioned = (re) =>
  files.map((f) => [f, f.match(re)]).filter(([, m]) => m)
    .map(([f, m]) => ({ file: f, version: Number(m[1]), name: m[2] }))
    .sort((a, b) => a.version - b.version);

// Root chain.
const roots = versioned(/^(\d+)\.(root)\.json$/);
if (roots.length === 0 || roots[0].version !== 1) die('no 1.root.json');
const rootMds = [];
for (const r of roots) {
  const md = load(r.file, MetadataKind.Root);
  if (md.signed.version !== r.version) die(`${r.file}: version ${md.signed.version}`);
  try {
    if (rootMds.length) rootMds[rootMds.length - 1].verifyDelegate('root', md);
    md.verifyDelegate('root', md);
  } catch (e) {
    die(`${r.file}: ${e.message}`);
  }
  rootMds.push(md);
  console.log(`ok ${r.file}`);
}

const verifiedBySome = (delegators, role, md) =>
  delegators.some((d) => {
    try {
      d.verifyDelegate(role, md);
      return true;
    } catch (e) {
      return false;
    }
  });

let count = roots.length;
const check = (file, kind, role, delegators) => {
  const md = load(file, kind);
  if (!verifiedBySome(delegators, role, md)) die(`${file}: no ${role} key set accepts it`);
  console.log(`ok ${file}`);
  count++;
  return md;
};

check('timestamp.json', MetadataKind.Timestamp, 'timestamp', rootMds);
for (const s of versioned(/^(\d+)\.(snapshot)\.json$/))
  check(s.file, MetadataKind.Snapshot, 'snapshot', rootMds);

// Targets and delegated roles: a role's files verify under any version of any role
// that delegates it. Walk breadth-first from the top-level targets versions.
const byRole = new Map();
for (const f of versioned(/^(\d+)\.(.+)\.json$/)) {
  if (['root', 'snapshot', 'timestamp'].includes(f.name)) continue;
  const role = decodeURIComponent(f.name);
  if (!byRole.has(role)) byRole.set(role, []);
  byRole.get(role).push(f.file);
}
const delegatorsOf = new Map([['targets', rootMds]]);
const done = new Set();
const queue = ['targets'];
while (queue.length) {
  const role = queue.shift();
  if (done.has(role)) continue;
  done.add(role);
  for (const file of byRole.get(role) || []) {
    const md = check(file, MetadataKind.Targets, role, delegatorsOf.get(role));
    const dl = md.signed.delegations;
    for (const child of Object.keys((dl && dl.roles) || {})) {
      if (!delegatorsOf.has(child)) delegatorsOf.set(child, []);
      delegatorsOf.get(child).push(md);
      queue.push(child);
    }
  }
}
for (const role of byRole.keys()) {
  if (!done.has(role)) die(`metadata of role ${role} that nothing delegates`);
}
console.log(`verify_models: ${count} metadata files accepted by @tufjs/models`);
