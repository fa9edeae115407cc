<?php
/**
 * Parley\Webhook on its own (no Parley needed): deliveries signed the way
 * Parley signs them verify; tampered, stale, unsigned or forged ones are
 * refused with the right code; and fromGlobals() works on a real PHP
 * request served by `php -S` (tests/php/receiver.php).
 */

declare(strict_types=1);

use Parley\SignatureException;
use Parley\Signer;
use Parley\Webhook;

const HOOK_SECRET = 'hook-test-secret';

/** A delivery as Parley would send it: [body, headers]. */
function fake_delivery(string $pathWithQuery, ?int $ts = null, array $data = ['user' => ['external_id' => '7']]): array
{
    $event = ['id' => 'evt-' . bin2hex(random_bytes(6)), 'type' => 'message.offline',
        'created_at' => gmdate('Y-m-d\TH:i:s.000\Z'), 'site' => 'shop', 'data' => $data];
    $body = json_encode($event, JSON_UNESCAPED_SLASHES);
    $headers = (new Signer('shop', HOOK_SECRET))->headers('POST', $pathWithQuery, $body, $ts);
    $headers['X-Parley-Event-Id'] = $event['id'];
    $headers['Content-Type'] = 'application/json';
    return [$body, $headers, $event];
}

function refused(string $code, callable $fn, string $what): void
{
    try {
        $fn();
    } catch (SignatureException $e) {
        T::eq($code, $e->getErrorCode(), $what);
        return;
    }
    T::fail("$what: was accepted");
}

return [
    'a genuine delivery verifies, whatever the header spelling' => function (): void {
        [$body, $h, $event] = fake_delivery('/parley-hook?k=1');
        T::eq($event, Webhook::verify(HOOK_SECRET, 'POST', '/parley-hook?k=1', $body, $h), 'as sent');
        $lower = array_change_key_case($h, CASE_LOWER);
        T::eq($event, Webhook::verify(HOOK_SECRET, 'POST', '/parley-hook?k=1', $body, $lower), 'lower case');
        $cgi = [];
        foreach ($h as $k => $v) {
            $cgi['HTTP_' . strtoupper(str_replace('-', '_', $k))] = $v;
        }
        T::eq($event, Webhook::verify(HOOK_SECRET, 'POST', '/parley-hook?k=1', $body, $cgi), 'CGI style');
        $psr = array_map(static fn ($v) => [$v], $h);
        T::eq($event, Webhook::verify(HOOK_SECRET, 'POST', '/parley-hook?k=1', $body, $psr), 'PSR-7 lists');
    },

    'a tampered body is refused' => function (): void {
        [$body, $h] = fake_delivery('/hook');
        $tampered = str_replace('"7"', '"8"', $body);
        T::ok($tampered !== $body, 'the body was changed');
        refused('bad_signature', fn () => Webhook::verify(HOOK_SECRET, 'POST', '/hook', $tampered, $h), 'tampered body');
        refused('bad_signature', fn () => Webhook::verify(HOOK_SECRET, 'POST', '/hook', $body . ' ', $h), 'a trailing space');
    },

    'an old or future timestamp is refused, 300 s either way is fine' => function (): void {
        [$body, $h] = fake_delivery('/hook', time() - 600);
        refused('request_expired', fn () => Webhook::verify(HOOK_SECRET, 'POST', '/hook', $body, $h), '10 minutes old');
        [$body, $h] = fake_delivery('/hook', time() + 600);
        refused('request_expired', fn () => Webhook::verify(HOOK_SECRET, 'POST', '/hook', $body, $h), '10 minutes ahead');
        [$body, $h] = fake_delivery('/hook', 1700000000);
        T::ok(is_array(Webhook::verify(HOOK_SECRET, 'POST', '/hook', $body, $h, 1700000000 + 300)), 'at the edge');
        refused('request_expired', fn () => Webhook::verify(HOOK_SECRET, 'POST', '/hook', $body, $h, 1700000000 + 301), 'past the edge');
    },

    'missing headers, another secret, path or method are refused' => function (): void {
        [$body, $h] = fake_delivery('/hook?a=1');
        foreach (['X-Parley-Timestamp', 'X-Parley-Nonce', 'X-Parley-Signature'] as $name) {
            $less = $h;
            unset($less[$name]);
            refused('signature_required', fn () => Webhook::verify(HOOK_SECRET, 'POST', '/hook?a=1', $body, $less), "without $name");
        }
        refused('signature_required', fn () => Webhook::verify(HOOK_SECRET, 'POST', '/hook?a=1', $body, []), 'no headers');
        refused('bad_signature', fn () => Webhook::verify('not-the-secret', 'POST', '/hook?a=1', $body, $h), 'other secret');
        refused('bad_signature', fn () => Webhook::verify(HOOK_SECRET, 'POST', '/hook', $body, $h), 'query dropped');
        refused('bad_signature', fn () => Webhook::verify(HOOK_SECRET, 'PUT', '/hook?a=1', $body, $h), 'other method');
    },

    'a signed body that is not an event is refused' => function (): void {
        $h = (new Signer('shop', HOOK_SECRET))->headers('POST', '/hook', 'not json');
        refused('invalid_payload', fn () => Webhook::verify(HOOK_SECRET, 'POST', '/hook', 'not json', $h), 'not JSON');
        $h = (new Signer('shop', HOOK_SECRET))->headers('POST', '/hook', '{"type":"x"}');
        refused('invalid_payload', fn () => Webhook::verify(HOOK_SECRET, 'POST', '/hook', '{"type":"x"}', $h), 'no id');
    },

    'fromGlobals() verifies a real request (php -S receiver)' => function (): void {
        $r = T::receiver(HOOK_SECRET);
        [$body, $h, $event] = fake_delivery('/parley-hook?site=shop&x=%2F');
        $res = T::http('POST', $r['url'] . '/parley-hook?site=shop&x=%2F', $h, $body);
        T::eq(200, $res['status'], 'a genuine delivery is acknowledged: ' . $res['raw']);

        [$body2, $h2] = fake_delivery('/parley-hook');
        $res = T::http('POST', $r['url'] . '/parley-hook', $h2, str_replace('"7"', '"9"', $body2));
        T::eq(401, $res['status'], 'a tampered delivery gets 401');
        [$body3, $h3] = fake_delivery('/parley-hook', time() - 600);
        $res = T::http('POST', $r['url'] . '/parley-hook', $h3, $body3);
        T::eq(401, $res['status'], 'a stale delivery gets 401');

        $d = T::deliveries($r['dir']);
        T::eq(3, count($d), 'three deliveries recorded');
        T::eq([true, null, $event], [$d[0]['verified'], $d[0]['error'], $d[0]['event']], 'the genuine one');
        T::eq([false, 'bad_signature'], [$d[1]['verified'], $d[1]['error']], 'the tampered one');
        T::eq([false, 'request_expired'], [$d[2]['verified'], $d[2]['error']], 'the stale one');
    },
];
