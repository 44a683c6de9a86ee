import { expect, it } from 'vitest';
import { workerEndpoint } from './master-url.js';

it('adds /worker to a bare master address and keeps explicit paths', () => {
  expect(workerEndpoint('ws://127.0.0.1:8010')).toBe('ws://127.0.0.1:8010/worker');
  expect(workerEndpoint('ws://farm.example.org:8010/')).toBe('ws://farm.example.org:8010/worker');
  expect(workerEndpoint('wss://farm.example.org/shepherd/worker')).toBe('wss://farm.example.org/shepherd/worker');
  expect(workerEndpoint('https://farm.example.org')).toBe('wss://farm.example.org/worker');
});

it('says what is wrong with a bad address', () => {
  expect(() => workerEndpoint('farm:8010')).toThrow(/scheme farm; expected ws:\/\/HOST:PORT/);
  expect(() => workerEndpoint('not a url')).toThrow(/"not a url" is not a URL/);
  expect(() => workerEndpoint('ws://me:pw@farm')).toThrow(/credentials/);
});
