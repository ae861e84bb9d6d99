/**
 * JSON parsing for untrusted input. Keys that could reach an object's prototype are refused
 * outright, so no later spread or merge of caller data can pollute Object.prototype.
 */
import { RequestError } from './errors';

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

export function parseUntrustedJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text, (key, value) => {
      if (FORBIDDEN_KEYS.has(key))
        throw new RequestError(`${what}: the field name ${key} is not allowed`);
      return value;
    });
  } catch (error) {
    if (error instanceof RequestError) throw error;
    throw new RequestError(`${what}: is not valid JSON`);
  }
}
