<?php
/**
 * Parley refuses every server-to-server request that is not correctly
 * signed, with 401 and the README's codes, and each nonce works once.
 * These requests are built by hand (raw HTTP), since the library would
 * never send them.
 */

declare(strict_types=1);

use Parley\Signer;

/** Signing headers for site A (or another name/secret), plus Content-Type for a body. */
function sign_a(string $method, string $path, string $body = '', ?int $ts = null, ?string $nonce = null,
    ?string $site = null, ?string $secret = null): array
{
    $h = (new Signer($site ?? T::siteName('A'), $secret ?? T::secret('A')))->headers($method, $path, $body, $ts, $nonce);
    if ($body !== '') {
        $h['Content-Type'] = 'application/json';
    }
    return $h;
}

function refused_with(string $code, array $res, string $what): void
{
    T::eq(401, $res['status'], "$what: status (" . $res['raw'] . ')');
    T::eq($code, $res['json']['error']['code'] ?? null, "$what: code");
    T::ok(is_string($res['json']['error']['message'] ?? null), "$what: a message");
}

return [
    'a correctly signed request passes (the baseline for the rest)' => function (): void {
        $u = T::user('A', 'ref');
        $path = '/api/v1/server/users/' . rawurlencode($u['ext']);
        $r = T::http('GET', $path, sign_a('GET', $path));
        T::eq(200, $r['status'], 'signed GET: ' . $r['raw']);
        T::eq($u['id'], $r['json']['user']['id'], 'the user');
    },

    'bad signature: another secret, another site\'s secret, a flipped bit' => function (): void {
        $u = T::user('A', 'refb');
        $path = '/api/v1/server/users/' . rawurlencode($u['ext']);
        refused_with('bad_signature', T::http('GET', $path, sign_a('GET', $path, '', null, null, null, 'wrong-secret-0123456789')), 'wrong secret');
        refused_with('bad_signature', T::http('GET', $path, sign_a('GET', $path, '', null, null, null, T::secret('B'))), 'site B\'s secret');
        $h = sign_a('GET', $path);
        $last = substr($h['X-Parley-Signature'], -1);
        $h['X-Parley-Signature'] = substr($h['X-Parley-Signature'], 0, -1) . ($last === '0' ? '1' : '0');
        refused_with('bad_signature', T::http('GET', $path, $h), 'one hex digit changed');
        refused_with('bad_signature', T::http('GET', $path . '?x=1', sign_a('GET', $path)), 'a query added after signing');
        refused_with('bad_signature', T::http('PUT', $path, sign_a('GET', $path)), 'another method');
    },

    'the same signed request twice: the second is replayed' => function (): void {
        $u = T::user('A', 'refr');
        $path = '/api/v1/server/users/' . rawurlencode($u['ext']);
        $h = sign_a('GET', $path);
        T::eq(200, T::http('GET', $path, $h)['status'], 'first');
        refused_with('replayed', T::http('GET', $path, $h), 'second');
        // A write too, with a body: the replay must not act again.
        $body = json_encode(['display_name' => 'Replayed?']);
        $h = sign_a('PUT', $path, $body);
        T::eq(200, T::http('PUT', $path, $h, $body)['status'], 'first PUT');
        refused_with('replayed', T::http('PUT', $path, $h, $body), 'second PUT');
        // The nonce is per site: site B may use the same one.
        $ub = T::user('B', 'refrb');
        $pathB = '/api/v1/server/users/' . rawurlencode($ub['ext']);
        $hb = sign_a('GET', $pathB, '', null, $h['X-Parley-Nonce'], T::siteName('B'), T::secret('B'));
        T::eq(200, T::http('GET', $pathB, $hb)['status'], 'site B with site A\'s nonce');
    },

    'only a correctly signed request uses up its nonce' => function (): void {
        $u = T::user('A', 'refn');
        $path = '/api/v1/server/users/' . rawurlencode($u['ext']);
        $nonce = bin2hex(random_bytes(16));
        refused_with('bad_signature', T::http('GET', $path, sign_a('GET', $path, '', null, $nonce, null, 'wrong-secret-0123456789')), 'forged first');
        T::eq(200, T::http('GET', $path, sign_a('GET', $path, '', null, $nonce))['status'], 'the genuine request with that nonce still passes');
    },

    'a timestamp 10 minutes away either way is request_expired' => function (): void {
        $u = T::user('A', 'reft');
        $path = '/api/v1/server/users/' . rawurlencode($u['ext']);
        refused_with('request_expired', T::http('GET', $path, sign_a('GET', $path, '', time() - 600)), '10 minutes old');
        refused_with('request_expired', T::http('GET', $path, sign_a('GET', $path, '', time() + 600)), '10 minutes ahead');
        T::eq(200, T::http('GET', $path, sign_a('GET', $path, '', time() - 240))['status'], '4 minutes old is fine');
    },

    'missing or malformed headers are signature_required' => function (): void {
        $u = T::user('A', 'refm');
        $path = '/api/v1/server/users/' . rawurlencode($u['ext']);
        refused_with('signature_required', T::http('GET', $path), 'no headers at all');
        foreach (['X-Parley-Site', 'X-Parley-Timestamp', 'X-Parley-Nonce', 'X-Parley-Signature'] as $name) {
            $h = sign_a('GET', $path);
            unset($h[$name]);
            refused_with('signature_required', T::http('GET', $path, $h), "without $name");
        }
        $bad = [
            'X-Parley-Signature' => ['v2=' . str_repeat('a', 64), 'v1=' . str_repeat('a', 63), 'v1=' . str_repeat('g', 64)],
            'X-Parley-Nonce' => ['short', str_repeat('n', 65), 'has space in it!!'],
            'X-Parley-Timestamp' => ['soon', '12ab', ''],
        ];
        foreach ($bad as $name => $values) {
            foreach ($values as $v) {
                $h = sign_a('GET', $path);
                $h[$name] = $v;
                refused_with('signature_required', T::http('GET', $path, $h), "$name: $v");
            }
        }
    },

    'an unknown site is unknown_site' => function (): void {
        $path = '/api/v1/server/users/1';
        refused_with('unknown_site', T::http('GET', $path, sign_a('GET', $path, '', null, null, 'no-such-site-' . bin2hex(random_bytes(3)))), 'unknown site');
    },

    'a tampered body with the original signature is bad_signature, and nothing changes' => function (): void {
        $a = T::client('A');
        $u = T::user('A', 'refbody');
        $path = '/api/v1/server/users/' . rawurlencode($u['ext']);
        $body = json_encode(['display_name' => 'Signed Name']);
        $h = sign_a('PUT', $path, $body);
        refused_with('bad_signature', T::http('PUT', $path, $h, json_encode(['display_name' => 'Evil Name'])), 'tampered body');
        T::eq($u['user']['display_name'], $a->getUser($u['ext'])['user']['display_name'], 'the user is unchanged');
        refused_with('bad_signature', T::http('PUT', $path, $h, $body . ' '), 'one trailing space');
        T::eq(200, T::http('PUT', $path, $h, $body)['status'], 'the untouched request still passes (its nonce was not used up)');
        T::eq('Signed Name', $a->getUser($u['ext'])['user']['display_name'], 'and acted');
    },

    'the library surfaces a refusal as ApiException with the code' => function (): void {
        $wrong = new Parley\Client(T::url(), T::siteName('A'), 'wrong-secret-0123456789');
        $e = T::apiError(401, 'bad_signature', fn () => $wrong->getUser('1'), 'wrong secret through the library');
        T::ok(is_array($e->getBody()) && isset($e->getBody()['error']), 'the body is kept');
        $unknown = new Parley\Client(T::url(), 'no-such-site', 'whatever-secret-0123');
        T::apiError(401, 'unknown_site', fn () => $unknown->getUser('1'), 'unknown site through the library');
    },

    'transport errors are TransportException' => function (): void {
        $c = new Parley\Client('http://127.0.0.1:' . T::freePort(), 'x', 'y', 2.0);
        try {
            $c->getUser('1');
            T::fail('no exception');
        } catch (Parley\TransportException $e) {
            T::ok(str_contains($e->getMessage(), 'GET /api/v1/server/users/1'), 'names the request: ' . $e->getMessage());
        }
    },
];
