// An independent verifier: Digital Bazaar's @digitalbazaar/vc + data-integrity + eddsa-rdfc-2022
// cryptosuite (their canonicalization, hashing and Ed25519), with a static document loader: the
// JSON-LD contexts Studyledger ships, and did:key documents built from the key in the id. No network.
//
// usage: node verify.mjs CONTEXTS_DIR CREDENTIAL_FILE   → prints {"verified": bool, "error": "..."}; exit 0/1
import {readFileSync, readdirSync} from 'node:fs';
import {join} from 'node:path';
import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022CryptoSuite} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';

const [contextsDir, credentialFile] = process.argv.slice(2);
const index = {
  'https://www.w3.org/ns/credentials/v2': 'www.w3.org_ns_credentials_v2.jsonld',
  'https://w3id.org/security/data-integrity/v2': 'w3id.org_security_data-integrity_v2.jsonld',
  'https://w3id.org/security/multikey/v1': 'w3id.org_security_multikey_v1.jsonld',
  'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json': 'purl.imsglobal.org_spec_ob_v3p0_context-3.0.3.json',
};
const contexts = {};
for (const [url, file] of Object.entries(index)) {
  contexts[url] = JSON.parse(readFileSync(join(contextsDir, file), 'utf8'));
}

function didKeyDocument(did) {
  const key = did.slice('did:key:'.length);
  const vm = {
    '@context': 'https://w3id.org/security/multikey/v1',
    id: `${did}#${key}`, type: 'Multikey', controller: did, publicKeyMultibase: key,
  };
  return {
    '@context': ['https://www.w3.org/ns/did/v1', 'https://w3id.org/security/multikey/v1'],
    id: did, verificationMethod: [vm], assertionMethod: [vm.id], authentication: [vm.id],
  };
}

const documentLoader = async url => {
  if (url in contexts) {
    return {contextUrl: null, documentUrl: url, document: contexts[url]};
  }
  if (url.startsWith('did:key:z6Mk')) {
    const [did, fragment] = url.split('#');
    const doc = didKeyDocument(did);
    const document = fragment ? doc.verificationMethod[0] : doc;
    return {contextUrl: null, documentUrl: url, document};
  }
  throw new Error(`document not available offline: ${url}`);
};

const credential = JSON.parse(readFileSync(credentialFile, 'utf8'));
const suite = new DataIntegrityProof({cryptosuite: eddsaRdfc2022CryptoSuite});
try {
  const result = await vc.verifyCredential({credential, suite, documentLoader});
  const error = result.verified ? null : String(
    (result.error && (result.error.errors || [result.error]).map(e => e.message).join('; ')) ||
    JSON.stringify(result.results));
  console.log(JSON.stringify({verified: result.verified, error}));
  process.exit(result.verified ? 0 : 1);
} catch(e) {
  console.log(JSON.stringify({verified: false, error: String(e && e.message || e)}));
  process.exit(1);
}
