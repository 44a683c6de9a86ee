import { describe, expect, it } from 'vitest';
import { debugSocketUrl, exitStatusOfRemote } from './debug.js';

describe('shepherd debug', () => {
  it("exits with the remote command's status, 1 when it had none", () => {
    expect(exitStatusOfRemote(0)).toBe(0);
    expect(exitStatusOfRemote(3)).toBe(3);
    expect(exitStatusOfRemote(255)).toBe(255);
    expect(exitStatusOfRemote(null)).toBe(1);
    expect(exitStatusOfRemote(-1)).toBe(1);
  });

  it("opens the build's debug WebSocket on the master, naming the user", () => {
    expect(debugSocketUrl('http://127.0.0.1:8010', 12, 'ada')).toBe('ws://127.0.0.1:8010/api/v1/builds/12/debug?user=ada');
    expect(debugSocketUrl('https://farm.example.org/shepherd', 3, 'a b')).toBe('wss://farm.example.org/shepherd/api/v1/builds/3/debug?user=a+b');
  });
});
