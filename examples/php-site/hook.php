<?php
/**
 * Parley's webhooks land here (register http://<site>/hook.php with
 * `scripts/parley site add NAME URL`). Verify first, store once per event
 * id, answer 2xx quickly: anything else makes Parley try again later.
 */

declare(strict_types=1);

require __DIR__ . '/app.php';

use Parley\SignatureException;
use Parley\Webhook;

header('Content-Type: application/json');
$cfg = config();
if ($cfg === null) {
    http_response_code(503);       // Parley retries until the site is configured
    echo '{"error":"not configured"}';
    exit;
}

try {
    $event = Webhook::fromGlobals($cfg['secret']);
} catch (SignatureException $e) {
    http_response_code($e->getErrorCode() === 'invalid_payload' ? 400 : 401);
    echo json_encode(['error' => $e->getErrorCode()]);
    exit;
}

$new = store_event($cfg, $event);
echo json_encode(['ok' => true, 'duplicate' => !$new]);
