<?php
/** POST: ends the site's session. (The framed Parley client keeps its own until the tab closes.) */

declare(strict_types=1);

require __DIR__ . '/app.php';

boot();
require_post_with_csrf();

$_SESSION = [];
session_regenerate_id(true);
session_destroy();
redirect('/');
