/**
 * The Ed25519 public keys the gateway checks signatures with (the fleet's, for upgrades; the
 * platform's, for visitor passes): a PEM file, and nothing but Ed25519 accepted from it.
 */
import type { KeyObject } from 'node:crypto';
import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';

export function loadEd25519PublicKey(path: string): KeyObject {
  const key = createPublicKey(readFileSync(path));
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`${path} holds a ${key.asymmetricKeyType ?? 'non-asymmetric'} key; an Ed25519 public key is needed`);
  return key;
}
