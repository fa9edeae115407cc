<?php
/**
 * POST: the site's own login. On success the session id changes (no
 * fixation), and the site brings Parley up to date: the user and their
 * friends exist there and are friends, as on the site.
 */

declare(strict_types=1);

require __DIR__ . '/app.php';

$cfg = boot();
require_post_with_csrf();

$id = check_login((string) ($_POST['username'] ?? ''), (string) ($_POST['password'] ?? ''));
if ($id === null) {
    redirect('/?failed=1');
}

session_regenerate_id(true);
$_SESSION['user_id'] = $id;
$_SESSION['csrf'] = bin2hex(random_bytes(32));

try {
    sync_with_parley(parley($cfg));
} catch (RuntimeException $e) {
    // The site works without chat; the home page says so.
    error_log('parley: ' . $e->getMessage());
}
redirect('/');
