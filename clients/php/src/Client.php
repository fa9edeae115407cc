<?php
/**
 * The site's side of Parley's server-to-server API (/api/v1/server/...):
 * every call is signed with the site's secret (see Signer), so it must
 * only ever run on the site's backend, never in a browser.
 *
 *     $parley = new Parley\Client('http://127.0.0.1:8080', 'shop', $secret);
 *     $parley->upsertUser('42', 'ann', 'Ann');        // link site user 42
 *     $ticket = $parley->createLoginTicket('42');     // one-time, 60 s
 *
 * External ids are the site's own user ids (1-128 of A-Z a-z 0-9 . _ @ : + = -).
 * Every method returns Parley's decoded JSON reply; lastStatus() tells
 * 201 (created) from 200 (already there) where that matters. Failures throw
 * ApiException (Parley said no) or TransportException (no usable answer).
 */

declare(strict_types=1);

namespace Parley;

final class Client
{
    private const PREFIX = '/api/v1/server';

    private string $baseUrl;
    private Signer $signer;
    private int $lastStatus = 0;

    /**
     * @param string $baseUrl Parley's origin, e.g. "https://chat.example.com" (no path)
     * @param float  $timeout seconds for a whole request
     */
    public function __construct(
        string $baseUrl,
        private string $siteName,
        string $secret,
        private float $timeout = 10.0
    ) {
        $this->baseUrl = rtrim($baseUrl, '/');
        $this->signer = new Signer($siteName, $secret);
    }

    public function siteName(): string
    {
        return $this->siteName;
    }

    /** The HTTP status of the last reply (0 before the first). */
    public function lastStatus(): int
    {
        return $this->lastStatus;
    }

    // ------------------------------------------------------------ users

    /**
     * Creates (201) or updates (200) the Parley user linked to the site's
     * user $externalId. A new user needs $username; null fields are left
     * as they are. 409 username_taken when another user has that name.
     *
     * @return array<mixed> {"user": {...}}
     */
    public function upsertUser(string $externalId, ?string $username = null, ?string $displayName = null): array
    {
        $body = [];
        if ($username !== null) {
            $body['username'] = $username;
        }
        if ($displayName !== null) {
            $body['display_name'] = $displayName;
        }
        return $this->request('PUT', self::PREFIX . '/users/' . rawurlencode($externalId), (object) $body);
    }

    /** @return array<mixed> {"user": {...}}; 404 unknown_user if this site never linked it */
    public function getUser(string $externalId): array
    {
        return $this->request('GET', self::PREFIX . '/users/' . rawurlencode($externalId));
    }

    /**
     * A one-time login ticket for the user, valid 60 s. Hand the ticket to
     * that user's browser only (Embed::frame); the frame redeems it.
     *
     * @return array<mixed> {"ticket", "expires_in", "user"}
     */
    public function createLoginTicket(string $externalId): array
    {
        return $this->request('POST', self::PREFIX . '/users/' . rawurlencode($externalId) . '/login-tickets');
    }

    /**
     * Exchanges a ticket for a session, as the embedded client does
     * (POST /api/v1/auth/ticket, not signed). For tests and for server-side
     * apps that act as the user.
     *
     * @return array<mixed> like a login: {"user", "token", "csrf_token", ...}
     */
    public function redeemTicket(string $ticket): array
    {
        return $this->request('POST', '/api/v1/auth/ticket', ['ticket' => $ticket], false);
    }

    /**
     * A stream token for one of the user's sessions (POST
     * /api/v1/auth/stream-token with that session's token, not signed):
     * what a page's JSONP client puts in its URLs as ?access_token= instead
     * of the session token, e.g. ParleyEmbed.widget({streamToken}). It
     * reads only GET /api/v1/events, expires after "expires_in" seconds
     * and dies with the session; mint a fresh one when the page asks.
     *
     * @param string $sessionToken the "token" of redeemTicket() or a login
     * @return array<mixed> {"stream_token", "expires_in"}
     */
    public function createStreamToken(string $sessionToken): array
    {
        return $this->request('POST', '/api/v1/auth/stream-token', null, false, $sessionToken);
    }

    // ------------------------------------------------------------ friends

    /**
     * Makes two of the site's users friends at once, no request needed
     * (importing the site's own social graph): 201 {"created": true}, or
     * 200 {"created": false} if they already were; 409 blocked.
     */
    public function addFriendship(string $a, string $b): array
    {
        return $this->request('POST', self::PREFIX . '/friendships', ['a' => $a, 'b' => $b]);
    }

    /** @return array<mixed> {"removed": bool} */
    public function removeFriendship(string $a, string $b): array
    {
        return $this->request('DELETE', self::PREFIX . '/friendships', ['a' => $a, 'b' => $b]);
    }

    // ------------------------------------------------------------ messages

    /**
     * A message on behalf of $from, under the rules that user has (friends
     * only, group members only): give exactly one of $to (an external id)
     * and $groupId. $clientId makes a retry safe.
     *
     * @param array<mixed> $body for type "text": ["text" => "..."]
     */
    public function sendMessage(
        string $from,
        ?string $to,
        ?int $groupId,
        array $body,
        string $type = 'text',
        ?string $clientId = null
    ): array {
        $req = ['from' => $from] + self::target($to, $groupId) + ['type' => $type, 'body' => (object) $body];
        if ($clientId !== null) {
            $req['client_id'] = $clientId;
        }
        return $this->request('POST', self::PREFIX . '/messages', $req);
    }

    /**
     * A system message from the site: into a group ($groupId), or into the
     * user's read-only notices conversation ($to, an external id).
     */
    public function sendSystemMessage(?string $to, ?int $groupId, string $text): array
    {
        return $this->request('POST', self::PREFIX . '/messages', self::target($to, $groupId) + ['body' => ['text' => $text]]);
    }

    // ------------------------------------------------------------ push

    /**
     * Puts {"type":"push","data":{"site","event"}} on each recipient's event
     * stream. $target is ["users" => [external ids]], ["group_id" => N] or
     * ["all" => true]; $event is any JSON value up to 16 KiB (use an object,
     * e.g. (object) [], where an empty value must stay {}).
     *
     * @param array<string,mixed> $target
     * @return array<mixed> {"recipients": N, "unknown": [external ids not linked]}
     */
    public function push(array $target, mixed $event): array
    {
        return $this->request('POST', self::PREFIX . '/push', $target + ['event' => $event]);
    }

    /** @param list<string|int> $externalIds up to 1000 */
    public function pushToUsers(array $externalIds, mixed $event): array
    {
        return $this->push(['users' => array_map('strval', array_values($externalIds))], $event);
    }

    /** Only the group's members that are this site's users receive it. */
    public function pushToGroup(int $groupId, mixed $event): array
    {
        return $this->push(['group_id' => $groupId], $event);
    }

    /** Every user linked to this site. */
    public function pushToAll(mixed $event): array
    {
        return $this->push(['all' => true], $event);
    }

    // ------------------------------------------------------------ webhook

    /**
     * Where Parley sends this site's webhooks; $events null means all of
     * them (message.offline, call.missed, friend.request).
     *
     * @param list<string>|null $events
     */
    public function setWebhook(string $url, ?array $events = null): array
    {
        $body = ['url' => $url];
        if ($events !== null) {
            $body['events'] = array_values($events);
        }
        return $this->request('PUT', self::PREFIX . '/webhook', $body);
    }

    /** @return array<mixed> {"webhook": {"url", "events"}}, or {"webhook": null} when none is set */
    public function getWebhook(): array
    {
        return $this->request('GET', self::PREFIX . '/webhook');
    }

    public function deleteWebhook(): array
    {
        return $this->request('DELETE', self::PREFIX . '/webhook');
    }

    /**
     * Recent deliveries, newest first, for debugging a receiver: state,
     * attempts, last_status, last_error.
     *
     * @param string|null $state "pending", "delivered" or "failed"; null for all
     * @return array<mixed> {"deliveries": [...]}
     */
    public function webhookDeliveries(?string $state = null, int $limit = 50): array
    {
        $query = http_build_query(array_filter(['state' => $state, 'limit' => $limit], static fn ($v) => $v !== null));
        return $this->request('GET', self::PREFIX . '/webhook/deliveries?' . $query);
    }

    // ------------------------------------------------------------ transport

    /**
     * One request. $body (any JSON value; null for none) is encoded once
     * and those exact bytes are both hashed into the signature and sent.
     * Public so a call this class does not wrap yet can still be made.
     * $bearer: a user's session token for the few user routes a site's
     * backend calls on the user's behalf (unsigned).
     *
     * @return array<mixed> the decoded reply ([] for an empty one)
     */
    public function request(string $method, string $pathWithQuery, mixed $body = null, bool $signed = true,
        ?string $bearer = null): array
    {
        $method = strtoupper($method);
        $raw = '';
        $headers = ['Accept: application/json', 'Expect:'];
        if ($body !== null) {
            try {
                $raw = json_encode($body, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE
                    | JSON_PRESERVE_ZERO_FRACTION | JSON_THROW_ON_ERROR);
            } catch (\JsonException $e) {
                throw new \InvalidArgumentException('Parley: body cannot be JSON-encoded: ' . $e->getMessage(), 0, $e);
            }
            $headers[] = 'Content-Type: application/json';
        }
        if ($signed) {
            foreach ($this->signer->headers($method, $pathWithQuery, $raw) as $name => $value) {
                $headers[] = "$name: $value";
            }
        }
        if ($bearer !== null) {
            if (!preg_match('/^[A-Za-z0-9_-]+$/', $bearer)) {
                throw new \InvalidArgumentException('Parley: a token is base64url characters only');
            }
            $headers[] = "Authorization: Bearer $bearer";
        }

        $ch = curl_init($this->baseUrl . $pathWithQuery);
        curl_setopt_array($ch, [
            CURLOPT_CUSTOMREQUEST => $method,
            CURLOPT_HTTPHEADER => $headers,
            CURLOPT_RETURNTRANSFER => true,
            CURLOPT_FOLLOWLOCATION => false,
            CURLOPT_PROTOCOLS => CURLPROTO_HTTP | CURLPROTO_HTTPS,
            CURLOPT_TIMEOUT_MS => (int) ($this->timeout * 1000),
            CURLOPT_CONNECTTIMEOUT_MS => (int) (min($this->timeout, 5.0) * 1000),
        ]);
        if ($method !== 'GET') {
            // Also for an empty body: sends Content-Length: 0.
            curl_setopt($ch, CURLOPT_POSTFIELDS, $raw);
        }
        $reply = curl_exec($ch);
        $status = (int) curl_getinfo($ch, CURLINFO_RESPONSE_CODE);
        $error = curl_error($ch);
        curl_close($ch);

        if (!is_string($reply)) {
            $this->lastStatus = 0;
            throw new TransportException("Parley: $method $pathWithQuery failed: $error");
        }
        $this->lastStatus = $status;
        $decoded = $reply === '' ? [] : json_decode($reply, true);

        if ($status >= 200 && $status < 300) {
            if (!is_array($decoded)) {
                throw new TransportException("Parley: $method $pathWithQuery answered $status without a JSON object");
            }
            return $decoded;
        }
        $err = is_array($decoded) && isset($decoded['error']) && is_array($decoded['error']) ? $decoded['error'] : [];
        throw new ApiException(
            $status,
            is_string($err['code'] ?? null) ? $err['code'] : 'http_' . $status,
            is_string($err['message'] ?? null) ? $err['message'] : substr($reply, 0, 200),
            is_array($decoded) ? $decoded : null
        );
    }

    /** @return array<string,mixed> */
    private static function target(?string $to, ?int $groupId): array
    {
        if (($to === null) === ($groupId === null)) {
            throw new \InvalidArgumentException('Parley: give exactly one of $to and $groupId');
        }
        return $to !== null ? ['to' => $to] : ['group_id' => $groupId];
    }
}
