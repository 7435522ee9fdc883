// node make_repo.js DIR init
// node make_repo.js DIR publish [OPTIONS] ROLE...
//
// A TUF repository written by the independent @tufjs/models library (DESIGN.md "Trust":
// upkeep-client must follow it), as plain files with consistent snapshots:
// DIR/metadata/{N.root.json, N.targets.json, N.delegated.json, N.snapshot.json,
// timestamp.json} and DIR/targets/<dir>/<sha256>.<name>. Keys are ed25519 from
// node:crypto, kept in DIR/keys.json; the unsigned state of each role in
// DIR/work/ROLE.json.
//
// init: root, targets (target "file1.txt", and role "delegated" for "deleg/*"),
// delegated (target "deleg/file2.txt"), snapshot, timestamp, all version 1.
//
// publish ROLE... (in the order given; targets roles before snapshot before
// timestamp): each gets its next version, is signed and written, and the role
// that lists it (snapshot for targets roles, timestamp for snapshot) is updated
// in its work state (written when it is published too). Options, for this call:
//   --expires SECONDS       lifetime of the versions written (default 30 days)
//   --version N             write this version instead of the next one
//   --sign-with NAME,...    sign with these keys instead of the role's own
//   --rotate ROLE           root: a new key replaces ROLE's key (root itself too)
//   --no-cross-sign         a new root is signed by its own keys only
//   --threshold ROLE=N      root: ROLE's threshold
//   --type-wrong            write `_type` of the metadata as another type
//   --dup-sig               list the first signature twice
//   --alias-key ROLE        root: ROLE's key listed a second time under another key id,
//                           threshold 2 (one key must not count twice)
//   --alias-sig             sign with the first key under both of its key ids
// Variants (the last three) are made on the JSON after @tufjs/models signed it:
// the library itself refuses to write such metadata.
'use strict';
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const { canonicalize } = require('@tufjs/canonical-json');
const { Metadata, MetadataKind, Signature } = require('@tufjs/models');

const [dir, cmd, ...args] = process.argv.slice(2);
if (!dir || !cmd) {
  console.error('usage: node make_repo.js DIR init | DIR publish [OPTIONS] ROLE...');
  process.exit(2);
}
const md = path.join(dir, 'metadata');
const work = path.join(dir, 'work');
const keysFile = path.join(dir, 'keys.json');
const readJSON = (f) => JSON.parse(fs.readFileSync(f, 'utf8'));
const kinds = { root: MetadataKind.Root, timestamp: MetadataKind.Timestamp,
  snapshot: MetadataKind.Snapshot, targets: MetadataKind.Targets, delegated: MetadataKind.Targets };
const sha256 = (b) => crypto.createHash('sha256').update(b).digest('hex');
const expiresIn = (s) => new Date(Math.floor(Date.now() / 1000 + s) * 1000).toISOString()
  .replace(/\.\d{3}Z$/, 'Z');

const alias = (keyid) => sha256('alias:' + keyid);

function newKey() {
  const { publicKey, privateKey } = crypto.generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  const pub = { keytype: 'ed25519', scheme: 'ed25519', keyval: { public: raw.toString('hex') } };
  return { keyid: sha256(canonicalize(pub)), pub,
    pem: privateKey.export({ format: 'pem', type: 'pkcs8' }) };
}

function signer(key) {
  const priv = crypto.createPrivateKey(key.pem);
  return (bytes) => new Signature({ keyID: key.keyid,
    sig: crypto.sign(null, bytes, priv).toString('hex') });
}

const opts = { expires: 30 * 86400, thresholds: {} };
const roles = [];
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--expires') opts.expires = Number(args[++i]);
  else if (a === '--version') opts.version = Number(args[++i]);
  else if (a === '--sign-with') opts.signWith = args[++i].split(',');
  else if (a === '--rotate') opts.rotate = args[++i];
  else if (a === '--no-cross-sign') opts.noCrossSign = true;
  else if (a === '--threshold') {
    const [r, n] = args[++i].split('=');
    opts.thresholds[r] = Number(n);
  } else if (a === '--type-wrong') opts.typeWrong = true;
  else if (a === '--dup-sig') opts.dupSig = true;
  else if (a === '--alias-key') opts.aliasKey = args[++i];
  else if (a === '--alias-sig') opts.aliasSig = true;
  else if (a.startsWith('-')) throw new Error('unknown option ' + a);
  else roles.push(a);
}

// Sign `signed` (plain JSON) through @tufjs/models and write it as `file`.
function write(role, signed, keyNames, keys, file) {
  const meta = Metadata.fromJSON(kinds[role], { signed, signatures: [] });
  for (const k of keyNames) meta.sign(signer(keys[k]));
  const doc = meta.toJSON();
  if (opts.typeWrong) doc.signed._type = role === 'timestamp' ? 'snapshot' : 'timestamp';
  if (opts.dupSig) doc.signatures.push(doc.signatures[0]);
  if (opts.aliasSig)
    doc.signatures.push({ keyid: alias(doc.signatures[0].keyid), sig: doc.signatures[0].sig });
  const bytes = Buffer.from(JSON.stringify(doc));
  fs.writeFileSync(path.join(md, file), bytes);
  return bytes;
}

function init() {
  fs.mkdirSync(md, { recursive: true });
  fs.mkdirSync(work, { recursive: true });
  const keys = {};
  for (const n of ['root', 'targets', 'snapshot', 'timestamp', 'delegated']) keys[n] = newKey();
  fs.writeFileSync(keysFile, JSON.stringify(keys));
  const exp = expiresIn(opts.expires);
  const roleKeys = (n) => ({ keyids: [keys[n].keyid], threshold: 1 });
  const root = { _type: 'root', spec_version: '1.0.31', version: 0, expires: exp,
    consistent_snapshot: true, keys: {}, roles: {} };
  for (const n of ['root', 'targets', 'snapshot', 'timestamp']) {
    root.keys[keys[n].keyid] = keys[n].pub;
    root.roles[n] = roleKeys(n);
  }
  const target = (name, data) => {
    const h = sha256(data);
    const d = path.join(dir, 'targets', path.dirname(name));
    fs.mkdirSync(d, { recursive: true });
    fs.writeFileSync(path.join(d, h + '.' + path.basename(name)), data);
    return { length: data.length, hashes: { sha256: h } };
  };
  const targets = { _type: 'targets', spec_version: '1.0.31', version: 0, expires: exp,
    targets: { 'file1.txt': target('file1.txt', 'file one\n') },
    delegations: { keys: { [keys.delegated.keyid]: keys.delegated.pub },
      roles: [{ name: 'delegated', keyids: [keys.delegated.keyid], threshold: 1,
        terminating: true, paths: ['deleg/*'] }] } };
  const delegated = { _type: 'targets', spec_version: '1.0.31', version: 0, expires: exp,
    targets: { 'deleg/file2.txt': target('deleg/file2.txt', 'file two\n') } };
  const snapshot = { _type: 'snapshot', spec_version: '1.0.31', version: 0, expires: exp,
    meta: {} };
  const timestamp = { _type: 'timestamp', spec_version: '1.0.31', version: 0, expires: exp,
    meta: {} };
  for (const [n, s] of Object.entries({ root, targets, delegated, snapshot, timestamp }))
    fs.writeFileSync(path.join(work, n + '.json'), JSON.stringify(s));
  publish(['root', 'targets', 'delegated', 'snapshot', 'timestamp']);
}

function publish(list) {
  const keys = readJSON(keysFile);
  const state = (n) => readJSON(path.join(work, n + '.json'));
  const save = (n, s) => fs.writeFileSync(path.join(work, n + '.json'), JSON.stringify(s));
  for (const role of list) {
    if (!kinds[role]) throw new Error('unknown role ' + role);
    const s = state(role);
    const prevRootKeys = role === 'root' ? [...s.roles.root.keyids] : null;
    s.version = opts.version !== undefined ? opts.version : s.version + 1;
    s.expires = expiresIn(opts.expires);
    let signers = [role];
    if (role === 'root') {
      if (opts.rotate) {
        const r = opts.rotate, k = newKey();
        const old = s.roles[r].keyids[0];
        keys[r + '.old.' + s.version] = keys[r];
        keys[r] = k;
        fs.writeFileSync(keysFile, JSON.stringify(keys));
        s.roles[r].keyids = [k.keyid];
        if (!Object.values(s.roles).some((x) => x.keyids.includes(old))) delete s.keys[old];
        s.keys[k.keyid] = k.pub;
      }
      for (const [r, n] of Object.entries(opts.thresholds)) s.roles[r].threshold = n;
      if (opts.aliasKey) {
        const id = s.roles[opts.aliasKey].keyids[0];
        s.keys[alias(id)] = s.keys[id];
        s.roles[opts.aliasKey].keyids.push(alias(id));
        s.roles[opts.aliasKey].threshold = 2;
      }
      const oldRootKeyName = Object.keys(keys).find((k) => keys[k].keyid === prevRootKeys[0]);
      signers = s.roles.root.keyids.map((id) => Object.keys(keys).find((k) => keys[k].keyid === id));
      if (oldRootKeyName && !opts.noCrossSign && !signers.includes(oldRootKeyName))
        signers.push(oldRootKeyName);
    }
    if (opts.signWith) signers = opts.signWith;
    if (role === 'timestamp') {
      write(role, s, signers, keys, 'timestamp.json');
    } else {
      const bytes = write(role, s, signers, keys, `${s.version}.${role}.json`);
      if (role === 'snapshot') {
        const ts = state('timestamp');
        ts.meta['snapshot.json'] = { version: s.version, length: bytes.length,
          hashes: { sha256: sha256(bytes) } };
        save('timestamp', ts);
      } else if (role !== 'root') {
        const sn = state('snapshot');
        sn.meta[role + '.json'] = { version: s.version };
        save('snapshot', sn);
      }
    }
    save(role, s);
  }
}

if (cmd === 'init') init();
else if (cmd === 'publish') publish(roles);
else {
  console.error('unknown command ' + cmd);
  process.exit(2);
}
