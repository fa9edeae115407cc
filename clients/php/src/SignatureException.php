<?php
/**
 * A signed request (a webhook delivery, say) failed verification.
 * getErrorCode() uses the same words Parley uses when it refuses a request:
 * "signature_required" (a header missing or malformed), "bad_signature",
 * "request_expired" (timestamp more than 300 s off), and "invalid_payload"
 * (correctly signed, but the body is not a JSON object). Answer such a
 * request with 401 (400 for invalid_payload) and do not act on it.
 */

declare(strict_types=1);

namespace Parley;

class SignatureException extends \RuntimeException
{
    public function __construct(private string $errorCode, string $message)
    {
        parent::__construct($message);
    }

    public function getErrorCode(): string
    {
        return $this->errorCode;
    }
}
