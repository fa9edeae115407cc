<?php
/**
 * examples/php-site against the real stack, driven like a browser with a
 * cookie jar: the login form with its CSRF token, the embed with a ticket
 * that signs the right Parley user in, the imported friendships, and
 * hook.php storing Parley's webhooks once each for "while you were away".
 */

declare(strict_types=1);

use Parley\Signer;

/** The demo site on its own port, configured for site A. */
function demo_site(): string
{
    static $url = null;
    if ($url === null) {
        $dir = T::scratch('demo-site');
        $url = T::phpServer(null, [
            'PARLEY_URL' => T::url(), 'PARLEY_SITE' => T::siteName('A'), 'PARLEY_SECRET' => T::secret('A'),
            'DEMO_SITE_VAR' => $dir,
        ], $dir . '/server.log', __DIR__ . '/../../examples/php-site');
        T::defer(static function () use (&$url): void {
            $url = null;
        });
    }
    return $url;
}

/** One browser: a cookie jar. Returns [status, body, location]. */
function browse(string $jar, string $method, string $path, array $form = []): array
{
    $ch = curl_init(demo_site() . $path);
    curl_setopt_array($ch, [CURLOPT_RETURNTRANSFER => true, CURLOPT_COOKIEFILE => $jar, CURLOPT_COOKIEJAR => $jar,
        CURLOPT_CUSTOMREQUEST => $method, CURLOPT_TIMEOUT => 30]);
    if ($method === 'POST') {
        curl_setopt($ch, CURLOPT_POSTFIELDS, http_build_query($form));
    }
    $body = curl_exec($ch);
    $status = curl_getinfo($ch, CURLINFO_RESPONSE_CODE);
    $location = curl_getinfo($ch, CURLINFO_REDIRECT_URL) ?: '';
    curl_close($ch);           // writes the jar
    T::ok(is_string($body), "$method $path answered");
    return [$status, $body, $location];
}

function csrf_of(string $html): string
{
    T::ok((bool) preg_match('/name="csrf" value="([0-9a-f]{64})"/', $html, $m), 'the page has a CSRF token');
    return $m[1];
}

/** Signs in through the form; returns the home page HTML. */
function sign_in(string $jar, string $username): string
{
    [, $html] = browse($jar, 'GET', '/');
    [$status, , $location] = browse($jar, 'POST', '/login.php',
        ['csrf' => csrf_of($html), 'username' => $username, 'password' => 'demo-password']);
    T::eq([303, demo_site() . '/'], [$status, $location], "$username signs in");
    [$status, $home] = browse($jar, 'GET', '/');
    T::eq(200, $status, 'the home page');
    return $home;
}

/** The options the page passes to ParleyEmbed.frame. */
function embed_options(string $html): array
{
    T::ok((bool) preg_match('~<script>ParleyEmbed\.frame\((\{.*?\})\);</script>~', $html, $m), 'the page embeds Parley');
    return json_decode($m[1], true);
}

return [
    'the login form: CSRF required, wrong passwords refused' => function (): void {
        $jar = tempnam(sys_get_temp_dir(), 'jar');
        [$status, $html] = browse($jar, 'GET', '/');
        T::eq(200, $status, 'the form');
        T::ok(str_contains($html, 'action="/login.php"'), 'a login form');
        [$status] = browse($jar, 'POST', '/login.php', ['username' => 'alice', 'password' => 'demo-password']);
        T::eq(403, $status, 'no CSRF token');
        [$status] = browse($jar, 'POST', '/login.php', ['csrf' => str_repeat('0', 64), 'username' => 'alice', 'password' => 'demo-password']);
        T::eq(403, $status, 'a wrong CSRF token');
        [$status, , $location] = browse($jar, 'POST', '/login.php', ['csrf' => csrf_of($html), 'username' => 'alice', 'password' => 'nope']);
        T::eq([303, demo_site() . '/?failed=1'], [$status, $location], 'a wrong password');
        [$status] = browse($jar, 'GET', '/app.php');
        T::eq(404, $status, 'the plumbing is not a page');
    },

    'signed in: the embed carries a ticket for the same person, friends imported' => function (): void {
        $jar = tempnam(sys_get_temp_dir(), 'jar');
        $home = sign_in($jar, 'alice');
        T::ok(str_contains($home, 'Signed in as <strong>Alice</strong>'), 'the site shows Alice');
        T::ok(str_contains($home, '<script src="' . T::url() . '/embed.js"></script>'), 'embed.js from Parley');
        $opts = embed_options($home);
        T::eq([T::url(), 'parley'], [$opts['server'], $opts['container']], 'server and container');
        $session = T::client('A')->redeemTicket($opts['ticket']);
        $alice = T::client('A')->getUser('1')['user'];
        T::eq($alice['id'], $session['user']['id'], 'the ticket signs in the Parley user linked to site user 1');
        T::eq('Alice', $alice['display_name'], 'named as on the site');
        $friends = array_map(static fn ($f) => $f['id'], T::apiOk(200, 'GET', '/api/v1/friends', $session['token'])['friends']);
        sort($friends);
        $others = [T::client('A')->getUser('2')['user']['id'], T::client('A')->getUser('3')['user']['id']];
        sort($others);
        T::eq($others, $friends, 'Alice is friends with Bob and Carol');

        $again = embed_options(browse($jar, 'GET', '/')[1])['ticket'];
        T::ok($again !== $opts['ticket'], 'a fresh ticket on every page view');
        sign_in(tempnam(sys_get_temp_dir(), 'jar'), 'alice');
        T::eq($alice, T::client('A')->getUser('1')['user'], 'a second login keeps the same Parley user');
    },

    'logout needs the CSRF token and ends the session' => function (): void {
        $jar = tempnam(sys_get_temp_dir(), 'jar');
        $home = sign_in($jar, 'carol');
        [$status] = browse($jar, 'POST', '/logout.php', []);
        T::eq(403, $status, 'without the token');
        [$status] = browse($jar, 'POST', '/logout.php', ['csrf' => csrf_of($home)]);
        T::eq(303, $status, 'with it');
        [, $html] = browse($jar, 'GET', '/');
        T::ok(str_contains($html, 'action="/login.php"'), 'signed out');
    },

    'hook.php: verified, stored once, shown escaped to the right user' => function (): void {
        sign_in(tempnam(sys_get_temp_dir(), 'jar'), 'bob');      // provisions the users
        $text = '<b>bold?</b> ' . T::uniq('note');
        $event = ['id' => random_int(1 << 40, 1 << 50), 'type' => 'message.offline', 'created_at' => gmdate('Y-m-d\TH:i:s.000\Z'),
            'site' => T::siteName('A'), 'data' => ['user' => ['id' => 1, 'username' => 'bob', 'display_name' => 'Bob', 'external_id' => '2'],
            'from' => null, 'message' => ['id' => 1, 'type' => 'system', 'body' => ['text' => $text]]]];
        $body = json_encode($event);
        $post = static function (string $b, ?string $secret = null) use ($body): array {
            $h = (new Signer(T::siteName('A'), $secret ?? T::secret('A')))->headers('POST', '/hook.php', $body);
            return T::http('POST', demo_site() . '/hook.php', $h + ['Content-Type' => 'application/json'], $b);
        };
        T::eq(401, $post($body, 'not-the-secret-0123')['status'], 'a forged delivery');
        T::eq(401, $post(str_replace('bold', 'BOLD', $body))['status'], 'a tampered delivery');
        $r = $post($body);
        T::eq([200, ['ok' => true, 'duplicate' => false]], [$r['status'], $r['json']], 'stored');
        $r = $post($body);
        T::eq([200, ['ok' => true, 'duplicate' => true]], [$r['status'], $r['json']], 'the same event again is acknowledged, not stored');

        $bob = sign_in(tempnam(sys_get_temp_dir(), 'jar'), 'bob');
        T::eq(1, substr_count($bob, h_demo("Notice: $text")), 'Bob sees it once, escaped');
        T::ok(!str_contains($bob, '<b>bold?</b>'), 'no raw HTML from the event');
        $alice = sign_in(tempnam(sys_get_temp_dir(), 'jar'), 'alice');
        T::ok(!str_contains($alice, 'bold?'), 'Alice does not see Bob\'s events');
    },

    'a real message.offline from Parley reaches the demo site' => function (): void {
        $a = T::client('A');
        sign_in(tempnam(sys_get_temp_dir(), 'jar'), 'carol');    // provisions everyone
        $a->setWebhook(demo_site() . '/hook.php');
        T::defer(static fn () => $a->deleteWebhook());
        $text = 'Lunch? ' . T::uniq('t');
        // Bob's Parley user is offline: nobody polls for him.
        $a->sendMessage('3', '2', null, ['text' => $text]);
        $jar = tempnam(sys_get_temp_dir(), 'jar');
        sign_in($jar, 'bob');
        $html = T::until(static function () use ($jar, $text) {
            $html = browse($jar, 'GET', '/')[1];
            return str_contains($html, h_demo("Carol wrote: $text")) ? $html : null;
        }, 20, 'Carol\'s message on Bob\'s home page');
        T::ok(str_contains($html, 'While you were away'), 'in the away list');
    },
];

function h_demo(string $s): string
{
    return htmlspecialchars($s, ENT_QUOTES | ENT_SUBSTITUTE | ENT_HTML5, 'UTF-8');
}
