// Verifies the committed RP1 test vectors through the WebAssembly module (node:test).
//
//   make verifier-wasm-test
//
// The module is the `wasm-bindgen --target nodejs` output of `make verifier-wasm`; its
// directory is PERMIT_VERIFIER_WASM_DIR, by default target/verifier-wasm in the repository.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const wasmDir = process.env.PERMIT_VERIFIER_WASM_DIR
  ?? path.join(here, '..', '..', 'target', 'verifier-wasm');
const modulePath = path.join(wasmDir, 'permit_verifier.js');
if (!existsSync(modulePath)) {
  throw new Error(`${modulePath} not found: run \`make verifier-wasm\` first`);
}
const { Verifier } = createRequire(import.meta.url)(modulePath);

const vectorsDir = path.join(here, '..', 'tests', 'vectors');
const vectors = readdirSync(vectorsDir)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => [f.replace(/\.json$/, ''), JSON.parse(readFileSync(path.join(vectorsDir, f), 'utf8'))]);

const hex = (s) => Uint8Array.from(Buffer.from(s, 'hex'));

test('the vector set is complete', () => {
  assert.ok(vectors.length >= 20, `only ${vectors.length} vectors`);
});

for (const [name, v] of vectors) {
  test(`vector ${name}: ${v.description}`, () => {
    const verifier = new Verifier(
      hex(v.root_public_key_hex),
      hex(v.trust_list_hex),
      v.status_list_hex === null ? undefined : hex(v.status_list_hex),
    );
    // The vector's policy as written in the file (lenient vectors: the same as verify()).
    const result = JSON.parse(verifier.verifyWithPolicy(v.qr, Date.parse(v.at), JSON.stringify(v.policy)));
    if (v.policy.name === 'lenient') {
      assert.deepStrictEqual(JSON.parse(verifier.verify(v.qr, Date.parse(v.at))), result);
    }
    delete result.verdict.reason;
    assert.deepStrictEqual(result.verdict, v.expected.verdict);
    assert.deepStrictEqual(result.warnings, v.expected.warnings);
    assert.deepStrictEqual(result.permit, v.expected.permit);
    assert.deepStrictEqual(result.claims, v.expected.claims);
    // The verdict and every warning come with the crate's sentences in both languages.
    assert.ok(result.messages.verdict.zh.length > 0 && result.messages.verdict.en.length > 0);
    assert.deepStrictEqual(result.messages.warnings.map((w) => w.code), result.warnings.map((w) => w.warning));
    for (const w of result.messages.warnings) assert.ok(w.zh.length > 0 && w.en.length > 0, JSON.stringify(w));
    verifier.free();
  });
}

test('options are passed through', () => {
  const [, v] = vectors.find(([n]) => n === 'holder_bound_stale_proof');
  const verifier = new Verifier(hex(v.root_public_key_hex), hex(v.trust_list_hex), hex(v.status_list_hex));
  // The proof is 10 minutes old: stale at 90 s, fresh at 15 minutes.
  const fresh = JSON.parse(verifier.verifyWithOptions(v.qr, Date.parse(v.at), 300, 900));
  assert.equal(fresh.verdict.verdict, 'valid');
  assert.ok(verifier.trustListExpiresAt > Date.parse(v.at));
});

test('the counter policy is the crate\'s, and each counter vector verifies leniently as valid', () => {
  const counter = JSON.parse(Verifier.counterPolicy());
  for (const [name, v] of vectors.filter(([, v]) => v.policy.name === 'counter')) {
    const { name: _, ...fields } = v.policy;
    assert.deepStrictEqual(counter, fields, name);
    const verifier = new Verifier(hex(v.root_public_key_hex), hex(v.trust_list_hex), v.status_list_hex === null ? undefined : hex(v.status_list_hex));
    const strict = JSON.parse(verifier.verifyWithPolicy(v.qr, Date.parse(v.at), Verifier.counterPolicy()));
    assert.deepStrictEqual(strict.verdict.verdict, v.expected.verdict.verdict, name);
    const lenient = JSON.parse(verifier.verify(v.qr, Date.parse(v.at)));
    assert.ok(['valid', 'valid_endorsement_due'].includes(lenient.verdict.verdict), `${name}: ${lenient.verdict.verdict}`);
    verifier.free();
  }
  const [, v] = vectors.find(([n]) => n === 'valid');
  const verifier = new Verifier(hex(v.root_public_key_hex), hex(v.trust_list_hex), hex(v.status_list_hex));
  assert.throws(() => verifier.verifyWithPolicy(v.qr, Date.parse(v.at), 'not json'));
});

test('the lists\' iat is readable, to refuse older lists', () => {
  const [, v] = vectors.find(([n]) => n === 'counter_status_list_too_old');
  const verifier = new Verifier(hex(v.root_public_key_hex), hex(v.trust_list_hex), hex(v.status_list_hex));
  assert.equal(verifier.statusListIssuedAt, Date.parse('2025-05-31T07:00:00Z'));
  assert.equal(verifier.trustListIssuedAt, Date.parse(v.at) - 86400 * 1000);
  const bare = new Verifier(hex(v.root_public_key_hex), hex(v.trust_list_hex), undefined);
  assert.equal(bare.statusListIssuedAt, undefined);
});

test('a trust list that does not verify throws', () => {
  const [, v] = vectors.find(([n]) => n === 'valid');
  assert.throws(() => new Verifier(new Uint8Array(32).fill(0x11), hex(v.trust_list_hex), undefined));
  assert.throws(() => new Verifier(hex(v.root_public_key_hex), new Uint8Array([1, 2, 3]), undefined));
});

test('garbage input gives a malformed verdict, not an exception', () => {
  const [, v] = vectors.find(([n]) => n === 'valid');
  const verifier = new Verifier(hex(v.root_public_key_hex), hex(v.trust_list_hex), undefined);
  for (const text of ['', 'RP1:', 'hello', 'RP1:%%%', '\u0000'.repeat(10000), 'RP1:' + 'A'.repeat(9000)]) {
    const result = JSON.parse(verifier.verify(text, Date.parse(v.at)));
    assert.equal(result.verdict.verdict, 'malformed');
  }
  assert.throws(() => verifier.verify(v.qr, Number.NaN));
});
