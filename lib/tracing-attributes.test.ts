// What spans say (lib/tracing-attributes.ts): paths without queries, URLs without userinfo or
// queries, Redis commands without their arguments, and the status of a raw upgrade answer.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { clientAttributes, MAX_PATH_LENGTH, pathOnly, redisAttributes, serverAttributes, serverSpanName, statusOfRawAnswer, urlWithoutQuery } from './tracing-attributes';

describe('tracing attributes', () => {
  test('a path keeps no query or fragment, and is bounded', () => {
    assert.equal(pathOnly('/oauth2/callback?code=abc&state=def'), '/oauth2/callback');
    assert.equal(pathOnly('/api/x#frag'), '/api/x');
    assert.equal(pathOnly('/api/a%2Fb'), '/api/a%2Fb');
    assert.equal(pathOnly(`/${'a'.repeat(5000)}`).length, MAX_PATH_LENGTH);
  });

  test('the server span: method and bounded route in the name, the path without the query', () => {
    const attributes = serverAttributes({ method: 'GET', route: '/oauth2/callback', target: '/oauth2/callback?code=secret-code&state=s', correlationId: 'c-1', httpVersion: '1.1', clientAddress: '10.0.0.1' });
    assert.deepEqual(attributes, {
      'http.request.method': 'GET',
      'http.route': '/oauth2/callback',
      'url.path': '/oauth2/callback',
      'network.protocol.version': '1.1',
      'gatehouse.correlation_id': 'c-1',
      'client.address': '10.0.0.1',
    });
    assert.ok(!JSON.stringify(attributes).includes('secret-code'));
    assert.equal(serverSpanName({ method: 'POST', route: '/api' }), 'POST /api');
  });

  test('a client call: origin and path, never userinfo or query; the default port of the scheme', () => {
    const url = new URL('https://user:pw@idp.example/token?client_secret=s#x');
    assert.equal(urlWithoutQuery(url), 'https://idp.example/token');
    assert.deepEqual(clientAttributes('POST', url), { 'http.request.method': 'POST', 'server.address': 'idp.example', 'server.port': 443, 'url.full': 'https://idp.example/token' });
    assert.equal(clientAttributes('GET', new URL('http://api:8080/x?q=1'))['server.port'], 8080);
  });

  test('a Redis command: its name and where, never its arguments', () => {
    const message = { command: 'set', args: ['gh:{id}:s', 'sealed-session-data', 'PX', '1000'], database: 0, serverAddress: 'redis', serverPort: 6379 };
    const attributes = redisAttributes(message);
    assert.deepEqual(attributes, { 'db.system.name': 'redis', 'db.operation.name': 'SET', 'db.namespace': '0', 'server.address': 'redis', 'server.port': 6379 });
    assert.ok(!JSON.stringify(attributes).includes('sealed'));
  });

  test('the status of what Gatehouse writes on an upgrade socket', () => {
    assert.equal(statusOfRawAnswer('HTTP/1.1 101 Switching Protocols\r\n'), 101);
    assert.equal(statusOfRawAnswer(Buffer.from('HTTP/1.1 401 Unauthorized\r\n')), 401);
    assert.equal(statusOfRawAnswer(Buffer.from([0x81, 0x05])), undefined);
    assert.equal(statusOfRawAnswer(undefined), undefined);
  });
});
