// The Node.js peers that aigov's benchmarks measure against, driven by benchmarks/_node.py.
//
// One JSON command per line on stdin, one JSON answer per line on stdout, so that the Python side can
// interleave a round here with its own rounds (same machine load for both). Commands:
//   {"op": "jwt", "id", "token", "jwk", "alg", "issuer", "typ", "now"}  register a token; verifies it once
//   {"op": "list", "id", "encodedList", "index", "expect"}             register a status list; decodes it once
//   {"op": "time", "id", "what": "jose" | "raw" | "list", "number"}    -> {"us": mean µs per call}
// "jose" is jose's jwtVerify with the imported public JWK: signature, typ, algorithm allow-list, iss,
// exp/nbf/iat against `now` with 300 s tolerance. "raw" is node:crypto's verify of the same signature.
// "list" is @digitalbazaar/vc-bitstring-status-list's decodeList (base64url, GZIP) and one getStatus.
import { createInterface } from 'node:readline';
import { createPublicKey, verify } from 'node:crypto';
import { importJWK, jwtVerify } from 'jose';
import { decodeList } from '@digitalbazaar/vc-bitstring-status-list';

const tokens = new Map();
const lists = new Map();

async function register(cmd) {
  if (cmd.op === 'jwt') {
    const key = await importJWK(cmd.jwk, cmd.alg);
    const options = {
      algorithms: [cmd.alg],
      issuer: cmd.issuer,
      typ: cmd.typ,
      currentDate: new Date(cmd.now * 1000),
      clockTolerance: 300,
    };
    const { payload } = await jwtVerify(cmd.token, key, options);
    const [header, body, signature] = cmd.token.split('.');
    const entry = {
      token: cmd.token,
      key,
      options,
      data: Buffer.from(`${header}.${body}`),
      signature: Buffer.from(signature, 'base64url'),
      nodeKey: createPublicKey({ key: cmd.jwk, format: 'jwk' }),
      alg: cmd.alg,
    };
    if (!rawVerify(entry)) throw new Error('node:crypto refused the signature');
    tokens.set(cmd.id, entry);
    return { ok: true, iss: payload.iss };
  }
  if (cmd.op === 'list') {
    const list = await decodeList({ encodedList: cmd.encodedList });
    const status = list.getStatus(cmd.index);
    if (status !== cmd.expect) throw new Error(`getStatus(${cmd.index}) = ${status}, expected ${cmd.expect}`);
    lists.set(cmd.id, cmd);
    return { ok: true, length: list.length };
  }
  throw new Error(`unknown op ${cmd.op}`);
}

function rawVerify(e) {
  if (e.alg === 'EdDSA') return verify(null, e.data, e.nodeKey, e.signature);
  return verify('sha256', e.data, { key: e.nodeKey, dsaEncoding: 'ieee-p1363' }, e.signature);
}

async function time(cmd) {
  const n = cmd.number;
  let start;
  if (cmd.what === 'list') {
    const { encodedList, index } = lists.get(cmd.id);
    start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) (await decodeList({ encodedList })).getStatus(index);
  } else if (cmd.what === 'jose') {
    const { token, key, options } = tokens.get(cmd.id);
    start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await jwtVerify(token, key, options);
  } else if (cmd.what === 'raw') {
    const entry = tokens.get(cmd.id);
    start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) rawVerify(entry);
  } else {
    throw new Error(`unknown timing ${cmd.what}`);
  }
  return { us: Number(process.hrtime.bigint() - start) / 1000 / n };
}

const lines = createInterface({ input: process.stdin, terminal: false });
for await (const line of lines) {
  let answer;
  try {
    const cmd = JSON.parse(line);
    answer = cmd.op === 'time' ? await time(cmd) : await register(cmd);
  } catch (e) {
    answer = { error: String(e && e.stack ? e.stack : e) };
  }
  process.stdout.write(JSON.stringify(answer) + '\n');
}
