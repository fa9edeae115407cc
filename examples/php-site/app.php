<?php
/**
 * The demo site's plumbing, shared by its pages: configuration, the three
 * demo accounts, the PHP session with a CSRF token, HTML escaping, and the
 * Parley calls a real site would make (provisioning, friendships, tickets,
 * the webhook event store). Only definitions: requesting this file
 * directly does nothing.
 */

declare(strict_types=1);

if (get_included_files()[0] === __FILE__) {
    http_response_code(404);
    exit;
}

// With Composer: require 'vendor/autoload.php';
require __DIR__ . '/../../clients/php/autoload.php';

use Parley\ApiException;
use Parley\Client;

/** The site's own users, keyed by the site's user id (Parley's external id). */
const DEMO_USERS = [
    '1' => ['username' => 'alice', 'name' => 'Alice'],
    '2' => ['username' => 'bob', 'name' => 'Bob'],
    '3' => ['username' => 'carol', 'name' => 'Carol'],
];
const DEMO_PASSWORD = 'demo-password';

// ------------------------------------------------------------ configuration

/** @return array{url:string, site:string, secret:string}|null null when PARLEY_SITE or PARLEY_SECRET is missing */
function config(): ?array
{
    $site = getenv('PARLEY_SITE') ?: '';
    $secret = getenv('PARLEY_SECRET') ?: '';
    if ($site === '' || $secret === '') {
        return null;
    }
    return ['url' => rtrim(getenv('PARLEY_URL') ?: 'http://127.0.0.1:8080', '/'), 'site' => $site, 'secret' => $secret];
}

/** Every page starts here: security headers, the session, and the config (or a page explaining it). */
function boot(): array
{
    header('X-Content-Type-Options: nosniff');
    header('Referrer-Policy: same-origin');
    $cfg = config();
    if ($cfg === null) {
        http_response_code(503);
        page('Setup needed', '<p>This demo needs its Parley site name and secret in the environment:</p>'
            . '<pre>scripts/parley site add demo http://127.0.0.1:8000/hook.php   # prints the secret' . "\n"
            . 'PARLEY_URL=http://127.0.0.1:8080 PARLEY_SITE=demo PARLEY_SECRET=... \\' . "\n"
            . '    php -S 127.0.0.1:8000 -t examples/php-site</pre>'
            . '<p>PARLEY_URL defaults to http://127.0.0.1:8080.</p>');
        exit;
    }
    session_set_cookie_params(['httponly' => true, 'samesite' => 'Lax', 'secure' => ($_SERVER['HTTPS'] ?? '') === 'on']);
    session_name('demo_site');
    session_start();
    $_SESSION['csrf'] ??= bin2hex(random_bytes(32));
    return $cfg;
}

function parley(array $cfg): Client
{
    return new Client($cfg['url'], $cfg['site'], $cfg['secret'], 10.0);
}

// ------------------------------------------------------------ HTML

function h(string $s): string
{
    return htmlspecialchars($s, ENT_QUOTES | ENT_SUBSTITUTE | ENT_HTML5, 'UTF-8');
}

/** $body is HTML: everything in it must already be escaped with h(). */
function page(string $title, string $body): void
{
    header('Content-Type: text/html; charset=utf-8');
    echo '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>' . h($title) . ' · Demo site</title>'
        . '<style>body{font:15px/1.4 sans-serif;margin:24px;max-width:1000px}header{display:flex;gap:16px;'
        . 'align-items:center}form.inline{display:inline}.error{color:#a00}li{margin:4px 0}'
        . 'label{display:block;margin:6px 0}</style></head><body><header><h1>Demo site</h1></header>'
        . $body . '</body></html>';
}

function csrf_field(): string
{
    return '<input type="hidden" name="csrf" value="' . h($_SESSION['csrf']) . '">';
}

/** POST only, with the session's CSRF token, or the request stops here. */
function require_post_with_csrf(): void
{
    if (($_SERVER['REQUEST_METHOD'] ?? '') !== 'POST'
        || !is_string($_POST['csrf'] ?? null) || !hash_equals($_SESSION['csrf'], $_POST['csrf'])) {
        http_response_code(403);
        page('Forbidden', '<p class="error">The form expired. <a href="/">Back</a></p>');
        exit;
    }
}

function redirect(string $to): void
{
    header('Location: ' . $to, true, 303);
    exit;
}

// ------------------------------------------------------------ accounts

/** The site user id for a username and password, or null. */
function check_login(string $username, string $password): ?string
{
    // A real site stores the hash; the demo makes it at runtime.
    $hash = password_hash(DEMO_PASSWORD, PASSWORD_DEFAULT);
    foreach (DEMO_USERS as $id => $u) {
        if (hash_equals($u['username'], $username)) {
            return password_verify($password, $hash) ? (string) $id : null;
        }
    }
    password_verify($password, $hash);     // same work for unknown names
    return null;
}

function current_user(): ?array
{
    $id = $_SESSION['user_id'] ?? null;
    return is_string($id) && isset(DEMO_USERS[$id]) ? ['id' => $id] + DEMO_USERS[$id] : null;
}

// ------------------------------------------------------------ Parley

/**
 * Creates or updates the Parley user linked to site user $id. If someone
 * else already has the username on Parley, falls back to "<name>.<site>".
 */
function provision(Client $parley, string $id): void
{
    $u = DEMO_USERS[$id];
    try {
        $parley->upsertUser($id, $u['username'], $u['name']);
    } catch (ApiException $e) {
        if ($e->getErrorCode() !== 'username_taken') {
            throw $e;
        }
        $parley->upsertUser($id, substr($u['username'] . '.' . $parley->siteName(), 0, 32), $u['name']);
    }
}

/** After a login: every demo user exists on Parley, and everyone is friends with everyone (idempotent). */
function sync_with_parley(Client $parley): void
{
    $ids = array_map('strval', array_keys(DEMO_USERS));
    foreach ($ids as $id) {
        provision($parley, $id);
    }
    foreach ($ids as $i => $a) {
        foreach (array_slice($ids, $i + 1) as $b) {
            $parley->addFriendship($a, $b);     // 200 when they already are
        }
    }
}

// ------------------------------------------------------------ webhook events

/** Outside the document root, so php -S never serves it. */
function events_file(array $cfg): string
{
    $dir = getenv('DEMO_SITE_VAR') ?: sys_get_temp_dir() . '/parley-demo-site-' . $cfg['site'];
    if (!is_dir($dir)) {
        mkdir($dir, 0700, true);
    }
    return $dir . '/events.jsonl';
}

/**
 * Appends a verified event unless its id is already stored (Parley may
 * deliver an event more than once). A real site would use a table with a
 * unique key on the event id. Returns false for a duplicate.
 */
function store_event(array $cfg, array $event): bool
{
    $f = fopen(events_file($cfg), 'c+');
    flock($f, LOCK_EX);
    while (($line = fgets($f)) !== false) {
        if ((string) (json_decode($line, true)['id'] ?? '') === (string) $event['id']) {
            flock($f, LOCK_UN);
            fclose($f);
            return false;
        }
    }
    fwrite($f, json_encode($event, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE) . "\n");
    fflush($f);
    flock($f, LOCK_UN);
    fclose($f);
    return true;
}

/** @return list<array> the newest $limit events about site user $id, newest first */
function events_for(array $cfg, string $id, int $limit = 10): array
{
    $file = events_file($cfg);
    $out = [];
    foreach (is_file($file) ? file($file, FILE_IGNORE_NEW_LINES | FILE_SKIP_EMPTY_LINES) : [] as $line) {
        $e = json_decode($line, true);
        if (is_array($e) && ($e['data']['user']['external_id'] ?? null) === $id) {
            $out[] = $e;
        }
    }
    return array_slice(array_reverse($out), 0, $limit);
}

/** One line of plain text about an event (escape it when printing). */
function describe(array $e): string
{
    $d = $e['data'];
    $from = $d['from']['display_name'] ?? 'Someone';
    switch ($e['type']) {
        case 'message.offline':
            $m = $d['message'];
            $text = $m['type'] === 'text' || $m['type'] === 'system' ? ($m['body']['text'] ?? '') : '[' . $m['type'] . ']';
            return $d['from'] === null ? "Notice: $text" : "$from wrote: $text";
        case 'call.missed':
            return "Missed {$d['call']['media']} call from $from";
        case 'friend.request':
            $memo = (string) ($d['request']['memo'] ?? '');
            return "$from wants to be your friend" . ($memo !== '' ? ": $memo" : '');
        default:
            return $e['type'];
    }
}
