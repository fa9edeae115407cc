<?php
/**
 * Single sign-on: the site mints a one-time login ticket for its user,
 * the browser redeems it at POST /api/v1/auth/ticket for a normal session.
 * (Expiry after 60 s is tested elsewhere: waiting for it here would make
 * this file slow.)
 */

declare(strict_types=1);

return [
    'a ticket is minted, redeemed once, and the session works' => function (): void {
        $a = T::client('A');
        $u = T::user('A', 'sso');
        $t = $a->createLoginTicket($u['ext']);
        T::eq(201, $a->lastStatus(), 'minted');
        T::ok(is_string($t['ticket']) && strlen($t['ticket']) >= 32, 'a long random ticket: ' . T::show($t));
        T::ok(is_int($t['expires_in']) && $t['expires_in'] > 0 && $t['expires_in'] <= 60, 'valid at most 60 s');
        T::eq($u['user'], $t['user'], 'the ticket names its user');

        $s = $a->redeemTicket($t['ticket']);
        T::ok(is_string($s['token']) && $s['token'] !== '', 'a session token');
        T::eq($u['id'], $s['user']['id'], 'the session is the user\'s');

        $me = T::api('GET', '/api/v1/auth/me', $s['token']);
        T::eq(200, $me['status'], '/auth/me with the token: ' . $me['raw']);
        T::eq([$u['id'], $u['username']], [$me['json']['user']['id'], $me['json']['user']['username']], 'it is the user');

        T::apiError(401, 'ticket_used', fn () => $a->redeemTicket($t['ticket']), 'the same ticket again');
        $me = T::api('GET', '/api/v1/auth/me', $s['token']);
        T::eq(200, $me['status'], 'a refused second use does not end the first session');
    },

    'every ticket is its own: two tickets, two sessions' => function (): void {
        $a = T::client('A');
        $u = T::user('A', 'sso2');
        $t1 = $a->createLoginTicket($u['ext'])['ticket'];
        $t2 = $a->createLoginTicket($u['ext'])['ticket'];
        T::ok($t1 !== $t2, 'different tickets');
        $s2 = $a->redeemTicket($t2);
        $s1 = $a->redeemTicket($t1);
        T::ok($s1['token'] !== $s2['token'], 'different sessions');
        foreach ([$s1, $s2] as $s) {
            T::eq(200, T::api('GET', '/api/v1/auth/me', $s['token'])['status'], 'each session works');
        }
    },

    'forged, malformed and missing tickets are refused' => function (): void {
        $a = T::client('A');
        $real = $a->createLoginTicket(T::user('A', 'sso3')['ext'])['ticket'];
        $forged = substr($real, 0, -4) . (substr($real, -4) === 'AAAA' ? 'BBBB' : 'AAAA');
        T::apiError(401, 'invalid_ticket', fn () => $a->redeemTicket($forged), 'a forged ticket');
        T::apiError(401, 'invalid_ticket', fn () => $a->redeemTicket(str_repeat('A', 43)), 'a made-up ticket');
        T::apiError(401, 'invalid_ticket', fn () => $a->redeemTicket('x'), 'a short one');
        $r = T::http('POST', '/api/v1/auth/ticket', ['Content-Type' => 'application/json'], '{}');
        T::eq(400, $r['status'], 'no ticket field: ' . $r['raw']);
        T::ok(is_string($r['json']['error']['code'] ?? null), 'an error object');
        // The real one still works: failed guesses do not burn it.
        T::eq(true, is_string($a->redeemTicket($real)['token']), 'the real ticket still works');
    },

    'a ticket for an unknown user is 404 unknown_user' => function (): void {
        T::apiError(404, 'unknown_user', fn () => T::client('A')->createLoginTicket(T::uniq('ext-nobody')), 'unknown user');
    },
];
