import { describe, expect, it } from 'vitest';
import { redactUrl } from './redact-url.js';

describe('redactUrl', () => {
  it('hides the password of every URL in a text, and nothing else', () => {
    expect(redactUrl('https://bot:s3cret@git.example.org/x.git')).toBe('https://bot:***@git.example.org/x.git');
    expect(redactUrl('fetch https://a:b@h/x and https://c:d@h/y')).toBe('fetch https://a:***@h/x and https://c:***@h/y');
    expect(redactUrl('https://git.example.org/x.git')).toBe('https://git.example.org/x.git');
    expect(redactUrl('ssh://git@git.example.org/x.git')).toBe('ssh://git@git.example.org/x.git');
    expect(redactUrl('git@host:a:b@c')).toBe('git@host:a:b@c');
  });
});
