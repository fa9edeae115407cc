<?php
/**
 * Parley answered, but not with success: the HTTP status and the error
 * object every Parley error carries, {"error":{"code","message"}}.
 *
 * Branch on getErrorCode() (stable snake_case such as "username_taken",
 * "unknown_user", "not_friends"), not on the message, which is for humans.
 */

declare(strict_types=1);

namespace Parley;

class ApiException extends \RuntimeException
{
    /** @param array<mixed>|null $body the decoded reply, when it was JSON */
    public function __construct(
        private int $status,
        private string $errorCode,
        string $message,
        private ?array $body = null,
        ?\Throwable $previous = null
    ) {
        parent::__construct("Parley $status $errorCode: $message", $status, $previous);
    }

    /** The HTTP status (also getCode()). */
    public function getStatus(): int
    {
        return $this->status;
    }

    /** The error code from the body, e.g. "bad_signature". */
    public function getErrorCode(): string
    {
        return $this->errorCode;
    }

    /** @return array<mixed>|null the whole decoded reply (some errors carry extra fields) */
    public function getBody(): ?array
    {
        return $this->body;
    }
}
