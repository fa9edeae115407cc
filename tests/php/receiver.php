<?php
/**
 * A webhook receiver for the tests, run as `php -S 127.0.0.1:<port>
 * tests/php/receiver.php` with PARLEY_HOOK_SECRET and PARLEY_HOOK_DIR in
 * its environment. Every request is checked with Parley\Webhook::fromGlobals
 * and recorded as one JSON line in $PARLEY_HOOK_DIR/deliveries.jsonl
 * (verified or not, with the answer given). Answers 401 to anything that
 * fails verification, 500 once for an event whose user has a flag file
 * fail-once-<md5(external_id)> (to make Parley retry), else 200.
 */

declare(strict_types=1);

require __DIR__ . '/../../clients/php/autoload.php';

use Parley\SignatureException;
use Parley\Webhook;

$dir = (string) getenv('PARLEY_HOOK_DIR');
$record = [
    'at' => microtime(true),
    'method' => $_SERVER['REQUEST_METHOD'] ?? '',
    'uri' => $_SERVER['REQUEST_URI'] ?? '',
    'header_event_id' => $_SERVER['HTTP_X_PARLEY_EVENT_ID'] ?? null,
    'header_site' => $_SERVER['HTTP_X_PARLEY_SITE'] ?? null,
    'content_type' => $_SERVER['CONTENT_TYPE'] ?? ($_SERVER['HTTP_CONTENT_TYPE'] ?? null),
    'verified' => false,
    'error' => null,
    'event' => null,
];

try {
    $event = Webhook::fromGlobals((string) getenv('PARLEY_HOOK_SECRET'));
    $record['verified'] = true;
    $record['event'] = $event;
    $ext = $event['data']['user']['external_id'] ?? null;
    $flag = is_string($ext) ? $dir . '/fail-once-' . md5($ext) : null;
    $status = $flag !== null && @unlink($flag) ? 500 : 200;
} catch (SignatureException $e) {
    $record['error'] = $e->getErrorCode();
    $status = $e->getErrorCode() === 'invalid_payload' ? 400 : 401;
}

$record['status'] = $status;
file_put_contents($dir . '/deliveries.jsonl', json_encode($record, JSON_UNESCAPED_SLASHES) . "\n", FILE_APPEND | LOCK_EX);
http_response_code($status);
header('Content-Type: application/json');
echo json_encode(['ok' => $status === 200]);
