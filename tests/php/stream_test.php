<?php
/**
 * Stream tokens for a page's JSONP client: the site's backend redeems a
 * ticket (or keeps a session token) and mints a stream token with it; the
 * page's script tags carry that, never the session token, and never rely
 * on the cookie.
 */

declare(strict_types=1);

return [
    'a stream token reads the events by JSONP; the session token in the URL is refused' => function (): void {
        $a = T::client('A');
        $u = T::user('A', 'strm');
        $session = $a->redeemTicket($a->createLoginTicket($u['ext'])['ticket']);
        $st = $a->createStreamToken($session['token']);
        T::eq(201, $a->lastStatus(), 'minted');
        T::ok(preg_match('/^st_[A-Za-z0-9_-]{43}$/', $st['stream_token']) === 1, 'a stream token: ' . T::show($st));
        T::ok(is_int($st['expires_in']) && $st['expires_in'] > 0, 'it expires');

        $r = T::http('GET', '/api/v1/events?timeout=0&callback=site.cb&access_token=' . $st['stream_token']);
        T::eq(200, $r['status'], 'JSONP answers 200');
        T::ok(preg_match('/^\/\*\*\/site\.cb\(\{"events":\[\],"next":\d+\}\);$/', $r['raw']) === 1, 'the batch: ' . $r['raw']);

        $r = T::http('GET', '/api/v1/events?timeout=0&callback=site.cb&access_token=' . $session['token']);
        T::ok(str_contains($r['raw'], '"invalid_token"') && str_contains($r['raw'], '"status":401'), 'session token refused: ' . $r['raw']);
        $r = T::http('GET', '/api/v1/events?timeout=0&callback=site.cb', ['Cookie' => 'parley_session=' . $session['token']]);
        T::ok(str_contains($r['raw'], '"status":401'), 'the cookie alone is refused: ' . $r['raw']);

        // A stream token cannot mint another, and dies with its session.
        T::apiError(401, 'unauthorized', fn () => $a->createStreamToken($st['stream_token']), 'minting with a stream token');
        T::eq(204, T::api('POST', '/api/v1/auth/logout', $session['token'])['status'], 'logout');
        $r = T::http('GET', '/api/v1/events?timeout=0&callback=site.cb&access_token=' . $st['stream_token']);
        T::ok(str_contains($r['raw'], '"invalid_token"'), 'gone with the session: ' . $r['raw']);
        T::apiError(401, 'invalid_token', fn () => $a->createStreamToken($session['token']), 'minting for an ended session');
    },
];
