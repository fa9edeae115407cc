<?php
/**
 * Parley\Signer against the README's definition, checked independently
 * with openssl in a shell (the README's own recipe), so the library and
 * the documented scheme cannot drift apart unnoticed.
 */

declare(strict_types=1);

use Parley\SignatureException;
use Parley\Signer;

/** Runs the README's shell recipe with the values in the environment; returns stdout. */
function openssl_signature(array $env): string
{
    $script = 'printf "v1\n%s\n%s\n%s\n%s\n%s" "$TS" "$NONCE" "$METHOD" "$P" '
        . '"$(printf %s "$BODY" | openssl dgst -sha256 -r | cut -c1-64)" | '
        . 'openssl dgst -sha256 -hmac "$SECRET" -r | cut -c1-64';
    $proc = proc_open(['sh', '-c', $script], [1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes, null, $env);
    $out = stream_get_contents($pipes[1]);
    $err = stream_get_contents($pipes[2]);
    $rc = proc_close($proc);
    T::eq(0, $rc, "the openssl recipe ran ($err)");
    return trim($out);
}

function openssl_sha256(string $data): string
{
    $proc = proc_open(['openssl', 'dgst', '-sha256', '-r'], [0 => ['pipe', 'r'], 1 => ['pipe', 'w']], $pipes);
    fwrite($pipes[0], $data);
    fclose($pipes[0]);
    $out = stream_get_contents($pipes[1]);
    proc_close($proc);
    return substr($out, 0, 64);
}

return [
    'the string to sign is six lines joined by \n, no trailing newline' => function (): void {
        $body = '{"username":"ann","display_name":"Ann"}';
        $s = Signer::stringToSign('1700000000', 'abcdef0123456789abcdef', 'put', '/api/v1/server/users/42?x=1', $body);
        T::eq("v1\n1700000000\nabcdef0123456789abcdef\nPUT\n/api/v1/server/users/42?x=1\n" . openssl_sha256($body), $s, 'string to sign');
        T::eq(
            "v1\n1\nnnnnnnnnnnnnnnnn\nGET\n/p\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            Signer::stringToSign('1', 'nnnnnnnnnnnnnnnn', 'GET', '/p', ''),
            'an empty body hashes as the empty string'
        );
    },

    'signatures equal the README openssl recipe' => function (): void {
        $cases = [
            ['PUT', '/api/v1/server/users/42', '{"username":"ann","display_name":"Ann"}', 'site-secret-1'],
            ['GET', '/api/v1/server/users/a%40b%3Ac?x=1&y=%20', '', 'another secret with spaces'],
            ['POST', '/api/v1/server/push', '{"all":true,"event":{"t":"Grüße \\"quoted\\" \\n</script>"}}', 'Ünïcode-sécret'],
            ['DELETE', '/api/v1/server/friendships', '{"a":"1","b":"2"}', str_repeat('k', 100)],
        ];
        foreach ($cases as [$method, $path, $body, $secret]) {
            $ts = (string) (1700000000 + random_int(0, 1000000));
            $nonce = bin2hex(random_bytes(16));
            $h = (new Signer('shop', $secret))->headers($method, $path, $body, (int) $ts, $nonce);
            $theirs = openssl_signature(['TS' => $ts, 'NONCE' => $nonce, 'METHOD' => $method, 'P' => $path,
                'BODY' => $body, 'SECRET' => $secret, 'PATH' => getenv('PATH') ?: '/usr/bin:/bin']);
            T::ok((bool) preg_match('/^[0-9a-f]{64}$/', $theirs), "openssl printed a digest: $theirs");
            T::eq('v1=' . $theirs, $h['X-Parley-Signature'], "signature of $method $path");
            T::eq(['X-Parley-Site' => 'shop', 'X-Parley-Timestamp' => $ts, 'X-Parley-Nonce' => $nonce,
                'X-Parley-Signature' => 'v1=' . $theirs], $h, 'the four headers');
        }
    },

    'headers() uses the clock and a fresh 32-hex-digit nonce each time' => function (): void {
        $s = new Signer('shop', 'secret');
        $a = $s->headers('GET', '/x');
        $b = $s->headers('GET', '/x');
        T::ok((bool) preg_match('/^[0-9a-f]{32}$/', $a['X-Parley-Nonce']), 'nonce format: ' . $a['X-Parley-Nonce']);
        T::ok($a['X-Parley-Nonce'] !== $b['X-Parley-Nonce'], 'nonces differ');
        T::ok(abs((int) $a['X-Parley-Timestamp'] - time()) <= 1, 'timestamp is now');
        T::ok((bool) preg_match('/^v1=[0-9a-f]{64}$/', $a['X-Parley-Signature']), 'signature format');
    },

    'verify accepts its own signature within ±300 s and refuses everything else' => function (): void {
        $secret = 'verify-secret';
        $now = 1700000000;
        $h = (new Signer('shop', $secret))->headers('POST', '/hook?a=1', '{"x":1}', $now, 'nonce-nonce-nonce-1');
        $check = static function (string $code, array $args, string $what): void {
            try {
                Signer::verify(...$args);
            } catch (SignatureException $e) {
                T::eq($code, $e->getErrorCode(), $what);
                return;
            }
            T::fail("$what: verified");
        };
        $base = [$secret, 'POST', '/hook?a=1', '{"x":1}', $h['X-Parley-Timestamp'], $h['X-Parley-Nonce'], $h['X-Parley-Signature']];
        foreach ([0, 300, -300] as $skew) {
            Signer::verify(...array_merge($base, [$now + $skew]));
            T::ok(true, "verified at skew $skew");
        }
        $with = static function (int $i, string $v) use ($base, $now): array {
            $a = $base;
            $a[$i] = $v;
            $a[] = $now;
            return $a;
        };
        Signer::verify(...$with(1, 'post'));
        T::ok(true, 'the method is compared in upper case');
        $check('request_expired', array_merge($base, [$now + 301]), 'timestamp 301 s old');
        $check('request_expired', array_merge($base, [$now - 301]), 'timestamp 301 s ahead');
        $check('bad_signature', $with(0, 'other secret'), 'wrong secret');
        $check('bad_signature', $with(1, 'PUT'), 'other method');
        $check('bad_signature', $with(2, '/hook?a=2'), 'other query');
        $check('bad_signature', $with(3, '{"x":2}'), 'tampered body');
        $check('bad_signature', $with(5, 'nonce-nonce-nonce-2'), 'other nonce');
        $check('bad_signature', $with(6, 'v1=' . str_repeat('0', 64)), 'zero signature');
        $check('signature_required', $with(4, ''), 'no timestamp');
        $check('signature_required', $with(4, '17e8'), 'timestamp not decimal');
        $check('signature_required', $with(5, 'short'), 'nonce too short');
        $check('signature_required', $with(5, str_repeat('n', 65)), 'nonce too long');
        $check('signature_required', $with(5, 'nonce with spaces!!'), 'nonce with bad characters');
        $check('signature_required', $with(6, 'v2=' . substr($h['X-Parley-Signature'], 3)), 'other version');
        $check('signature_required', $with(6, strtoupper($h['X-Parley-Signature'])), 'upper-case hex');
    },
];
