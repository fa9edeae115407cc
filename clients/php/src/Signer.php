<?php
/**
 * Request signing, version 1 (README, "Request signing"): HMAC-SHA256,
 * keyed with the site's secret, over six lines joined by "\n":
 *
 *     v1
 *     <timestamp>            Unix seconds, decimal
 *     <nonce>                16-64 of A-Z a-z 0-9 _ -
 *     <METHOD>               upper case
 *     <path and query>       exactly as sent, e.g. /api/v1/server/users/42?x=1
 *     <sha256(body) hex>     of the empty string when there is no body
 *
 * sent as "v1=" and 64 lowercase hex digits. The same scheme signs both
 * directions: the site's calls to Parley, and Parley's webhook deliveries
 * to the site. The body is hashed rather than included so the string to
 * sign stays small and unambiguous whatever the body holds.
 */

declare(strict_types=1);

namespace Parley;

final class Signer
{
    public const VERSION = 'v1';
    /** Largest accepted distance between a timestamp and our clock, seconds, either way. */
    public const MAX_SKEW = 300;

    public const HEADER_SITE = 'X-Parley-Site';
    public const HEADER_TIMESTAMP = 'X-Parley-Timestamp';
    public const HEADER_NONCE = 'X-Parley-Nonce';
    public const HEADER_SIGNATURE = 'X-Parley-Signature';

    public function __construct(private string $site, private string $secret)
    {
    }

    /** The exact bytes that get signed. */
    public static function stringToSign(
        string $timestamp,
        string $nonce,
        string $method,
        string $pathWithQuery,
        string $body
    ): string {
        return implode("\n", [
            self::VERSION,
            $timestamp,
            $nonce,
            strtoupper($method),
            $pathWithQuery,
            hash('sha256', $body),
        ]);
    }

    /** "v1=" and the lowercase hex HMAC-SHA256 of $stringToSign. */
    public static function sign(string $secret, string $stringToSign): string
    {
        return self::VERSION . '=' . hash_hmac('sha256', $stringToSign, $secret);
    }

    /**
     * The four X-Parley-* headers for one request, as name => value.
     * A fresh random nonce every time: Parley refuses a nonce it has seen
     * from this site in the last 10 minutes. $timestamp and $nonce exist
     * for tests; leave them null.
     *
     * @return array<string,string>
     */
    public function headers(
        string $method,
        string $pathWithQuery,
        string $body = '',
        ?int $timestamp = null,
        ?string $nonce = null
    ): array {
        $ts = (string) ($timestamp ?? time());
        $nonce ??= bin2hex(random_bytes(16));
        return [
            self::HEADER_SITE => $this->site,
            self::HEADER_TIMESTAMP => $ts,
            self::HEADER_NONCE => $nonce,
            self::HEADER_SIGNATURE => self::sign(
                $this->secret,
                self::stringToSign($ts, $nonce, $method, $pathWithQuery, $body)
            ),
        ];
    }

    /**
     * Checks a received signature; returns nothing on success and throws
     * SignatureException otherwise. Checks, in order: the header values are
     * well formed (signature_required), the timestamp is within MAX_SKEW of
     * $now (request_expired), the signature matches (bad_signature,
     * compared in constant time with hash_equals).
     *
     * It does not remember nonces: replay protection within the window is
     * up to the caller (for webhooks, dropping event ids already handled
     * does that job).
     */
    public static function verify(
        string $secret,
        string $method,
        string $pathWithQuery,
        string $body,
        string $timestamp,
        string $nonce,
        string $signature,
        ?int $now = null
    ): void {
        if (!preg_match('/^[0-9]{1,15}$/', $timestamp)) {
            throw new SignatureException('signature_required', 'X-Parley-Timestamp is missing or not Unix seconds');
        }
        if (!preg_match('/^[A-Za-z0-9_-]{16,64}$/', $nonce)) {
            throw new SignatureException('signature_required', 'X-Parley-Nonce is missing or malformed');
        }
        if (!preg_match('/^v1=[0-9a-f]{64}$/', $signature)) {
            throw new SignatureException('signature_required', 'X-Parley-Signature is missing or not v1=<64 hex digits>');
        }
        $now ??= time();
        if (abs($now - (int) $timestamp) > self::MAX_SKEW) {
            throw new SignatureException('request_expired', 'X-Parley-Timestamp is more than ' . self::MAX_SKEW . ' s away from our clock');
        }
        $expected = self::sign($secret, self::stringToSign($timestamp, $nonce, $method, $pathWithQuery, $body));
        if (!hash_equals($expected, $signature)) {
            throw new SignatureException('bad_signature', 'X-Parley-Signature does not match');
        }
    }
}
