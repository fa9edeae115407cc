<?php
/**
 * The home page. Signed out: the site's own login form. Signed in: what
 * Parley told us (webhooks) while the user was away, and the Parley client,
 * signed in as the same person through a one-time ticket.
 */

declare(strict_types=1);

require __DIR__ . '/app.php';

use Parley\Embed;

$cfg = boot();
$user = current_user();

if ($user === null) {
    $error = isset($_GET['failed']) ? '<p class="error">Wrong username or password.</p>' : '';
    page('Sign in', $error . '<form method="post" action="/login.php">' . csrf_field()
        . '<label>Username <input name="username" autocomplete="username" required></label>'
        . '<label>Password <input name="password" type="password" autocomplete="current-password" required></label>'
        . '<button type="submit">Sign in</button></form>'
        . '<p>Demo accounts: alice, bob, carol; password <code>' . h(DEMO_PASSWORD) . '</code>.</p>');
    exit;
}

$html = '<p>Signed in as <strong>' . h($user['name']) . '</strong> '
    . '<form class="inline" method="post" action="/logout.php">' . csrf_field() . '<button type="submit">Sign out</button></form></p>';

$events = events_for($cfg, $user['id']);
$html .= '<h2>While you were away</h2>';
if ($events === []) {
    $html .= '<p>Nothing new.</p>';
} else {
    $html .= '<ul id="away">';
    foreach ($events as $e) {
        $html .= '<li><time>' . h((string) $e['created_at']) . '</time> ' . h(describe($e)) . '</li>';
    }
    $html .= '</ul>';
}

$html .= '<h2>Chat</h2>';
try {
    // A ticket works once, for 60 s: mint one for every page view.
    $ticket = parley($cfg)->createLoginTicket($user['id'])['ticket'];
    $html .= Embed::frame($cfg['url'], $ticket, 'parley', ['width' => '100%', 'height' => 600]);
} catch (RuntimeException $e) {
    error_log('parley: ' . $e->getMessage());
    $html .= '<p class="error">The chat is unavailable right now.</p>';
}

page('Home', $html);
