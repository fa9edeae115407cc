<?php
/**
 * Receiving Parley's webhooks. A delivery is POST <your URL> with a JSON
 * body {"id","type","created_at","site","data"} signed like a
 * server-to-server request (Signer), over the path and query of your
 * webhook URL, with your site's current secret.
 *
 *     $event = Parley\Webhook::fromGlobals($secret);   // throws if forged
 *
 * Then answer 2xx quickly; anything else makes Parley retry later.
 * A delivery can arrive more than once (a retry after a lost answer), so
 * keep the ids of events you handled and drop repeats: that is the
 * receiver's job, and it also defeats a replay of a captured delivery
 * within the 300 s window.
 */

declare(strict_types=1);

namespace Parley;

final class Webhook
{
    /**
     * Verifies a delivery and returns the decoded event.
     *
     * @param array<string,string|list<string>> $headers any case; "X-Parley-Nonce",
     *        "x-parley-nonce" and "HTTP_X_PARLEY_NONCE" all work; list values
     *        (PSR-7 style) use their first element
     * @return array<string,mixed> {"id","type","created_at","site","data"}
     * @throws SignatureException
     */
    public static function verify(
        string $secret,
        string $method,
        string $pathWithQuery,
        string $rawBody,
        array $headers,
        ?int $now = null
    ): array {
        $h = self::normalize($headers);
        $get = static fn (string $name): string => $h[strtolower($name)] ?? '';
        foreach ([Signer::HEADER_TIMESTAMP, Signer::HEADER_NONCE, Signer::HEADER_SIGNATURE] as $name) {
            if ($get($name) === '') {
                throw new SignatureException('signature_required', "$name is missing");
            }
        }
        Signer::verify(
            $secret,
            $method,
            $pathWithQuery,
            $rawBody,
            $get(Signer::HEADER_TIMESTAMP),
            $get(Signer::HEADER_NONCE),
            $get(Signer::HEADER_SIGNATURE),
            $now
        );
        $event = json_decode($rawBody, true);
        if (!is_array($event)
            || !(is_string($event['id'] ?? null) || is_int($event['id'] ?? null))
            || !is_string($event['type'] ?? null)) {
            throw new SignatureException('invalid_payload', 'the body is not a Parley event');
        }
        return $event;
    }

    /**
     * verify() on the current PHP request: php://input, REQUEST_METHOD,
     * REQUEST_URI (the path and query as the client sent them; behind a
     * proxy that rewrites paths, call verify() with the original ones) and
     * the HTTP_X_PARLEY_* server variables.
     *
     * @return array<string,mixed>
     * @throws SignatureException
     */
    public static function fromGlobals(string $secret): array
    {
        $headers = [];
        foreach ($_SERVER as $key => $value) {
            if (is_string($key) && str_starts_with($key, 'HTTP_X_PARLEY_') && is_string($value)) {
                $headers[$key] = $value;
            }
        }
        return self::verify(
            $secret,
            (string) ($_SERVER['REQUEST_METHOD'] ?? ''),
            (string) ($_SERVER['REQUEST_URI'] ?? ''),
            (string) file_get_contents('php://input'),
            $headers
        );
    }

    /**
     * Lower-case, dash-separated names without a CGI "http-" prefix.
     *
     * @param array<mixed> $headers
     * @return array<string,string>
     */
    private static function normalize(array $headers): array
    {
        $out = [];
        foreach ($headers as $name => $value) {
            if (is_array($value)) {
                $value = reset($value);
            }
            if (!is_string($value)) {
                continue;
            }
            $name = str_replace('_', '-', strtolower((string) $name));
            if (str_starts_with($name, 'http-')) {
                $name = substr($name, 5);
            }
            $out[$name] = trim($value);
        }
        return $out;
    }
}
