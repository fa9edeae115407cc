<?php
/**
 * No usable answer from Parley at all: connection refused, DNS, timeout,
 * or a reply that is not the JSON Parley always sends. Kept apart from
 * ApiException because the caller's reaction differs: these are worth a
 * retry later, an ApiException usually is not.
 */

declare(strict_types=1);

namespace Parley;

class TransportException extends \RuntimeException
{
}
