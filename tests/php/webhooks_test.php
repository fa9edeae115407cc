<?php
/**
 * Webhooks end to end: a receiver (tests/php/receiver.php under php -S)
 * checks every delivery with Parley\Webhook and records it; the tests
 * make Parley send message.offline, friend.request and call.missed, and
 * make the receiver fail once to see the retry. The stack runs with
 * PARLEY_WEBHOOK_BACKOFF_MS=300, so the first retry comes after ~0.3 s.
 */

declare(strict_types=1);

const HOOK_PATH = '/parley-hook?site=a&q=a%2Fb';

/** The receiver for site A, with the webhook pointing at it (all events). */
function hook(): array
{
    static $r = null;
    if ($r === null) {
        $r = T::receiver(T::secret('A'));
        $r['hook'] = $r['url'] . HOOK_PATH;
        T::client('A')->setWebhook($r['hook']);
        T::defer(static function () use (&$r): void {
            $r = null;
            T::client('A')->deleteWebhook();
        });
    }
    return $r;
}

/** Waits for a verified delivery of $type whose event matches; returns every attempt of that event. */
function wait_delivery(string $type, callable $match, float $seconds = 20): array
{
    $dir = hook()['dir'];
    $first = T::until(static function () use ($dir, $type, $match) {
        foreach (T::deliveries($dir) as $d) {
            if ($d['verified'] && $d['event']['type'] === $type && $match($d['event'])) {
                return $d;
            }
        }
        return null;
    }, $seconds, "a $type delivery");
    return array_values(array_filter(T::deliveries($dir), static fn ($d) => $d['verified'] && $d['event']['id'] === $first['event']['id']));
}

/** The checks every delivery must pass. */
function assert_delivery(array $d, string $type, array $user): void
{
    T::eq(true, $d['verified'], 'the signature verified with the library');
    T::eq(['POST', HOOK_PATH, 'application/json'], [$d['method'], $d['uri'], $d['content_type']], 'POST to the URL as registered');
    $e = $d['event'];
    T::ok((is_int($e['id']) || is_string($e['id'])) && (string) $e['id'] !== '', 'an event id');
    T::eq((string) $e['id'], (string) $d['header_event_id'], 'X-Parley-Event-Id is the body id');
    T::eq([$type, T::siteName('A'), T::siteName('A')], [$e['type'], $e['site'], $d['header_site']], 'type and site');
    T::ok(is_string($e['created_at']) && strtotime($e['created_at']) > time() - 300, 'created_at: ' . T::show($e['created_at']));
    T::eq(['id' => $user['id'], 'username' => $user['username'], 'external_id' => $user['ext']],
        ['id' => $e['data']['user']['id'], 'username' => $e['data']['user']['username'], 'external_id' => $e['data']['user']['external_id']],
        'data.user is the site\'s user');
}

return [
    'set, read, filter and delete the webhook' => function (): void {
        $a = T::client('A');
        $url = hook()['hook'];
        $all = ['message.offline', 'call.missed', 'friend.request'];
        $got = $a->getWebhook()['webhook'];
        T::eq($url, $got['url'], 'the URL');
        $events = $got['events'];
        sort($events);
        $sortedAll = $all;
        sort($sortedAll);
        T::eq($sortedAll, $events, 'all events by default');
        T::eq(['url' => $url, 'events' => ['message.offline']], $a->setWebhook($url, ['message.offline'])['webhook'], 'filtered');
        T::eq(['url' => $url, 'events' => ['message.offline']], $a->getWebhook()['webhook'], 'read back');
        T::apiError(400, 'invalid_field', fn () => $a->setWebhook('ftp://example.com/x'), 'ftp URL');
        T::apiError(400, 'invalid_field', fn () => $a->setWebhook('javascript:alert(1)'), 'javascript URL');
        T::apiError(400, 'invalid_field', fn () => $a->setWebhook($url, ['message.sent']), 'unknown event');
        T::apiError(400, 'invalid_field', fn () => $a->setWebhook($url, []), 'no events');
        T::eq(['webhook' => null], $a->deleteWebhook(), 'deleted');
        T::eq(['webhook' => null], $a->getWebhook(), 'none now');
        $a->setWebhook($url);
        T::eq(3, count($a->getWebhook()['webhook']['events']), 'all events again');
        T::eq(['webhook' => null], T::client('B')->getWebhook(), 'site B has its own (none)');
    },

    'message.offline: to an offline user, from a user and from the site' => function (): void {
        hook();
        $a = T::client('A');
        $u1 = T::user('A', 'wo1');
        $u2 = T::user('A', 'wo2');
        $a->addFriendship($u1['ext'], $u2['ext']);
        $m = $a->sendMessage($u1['ext'], $u2['ext'], null, ['text' => 'are you there?'])['message'];
        $d = wait_delivery('message.offline', fn ($e) => ($e['data']['message']['id'] ?? 0) === $m['id']);
        assert_delivery($d[0], 'message.offline', $u2);
        T::eq($u1['ext'], $d[0]['event']['data']['from']['external_id'], 'data.from is the sender');
        T::eq($m, $d[0]['event']['data']['message'], 'data.message is the message');

        $s = $a->sendSystemMessage($u2['ext'], null, 'Your parcel is here')['message'];
        $d = wait_delivery('message.offline', fn ($e) => ($e['data']['message']['id'] ?? 0) === $s['id']);
        assert_delivery($d[0], 'message.offline', $u2);
        T::eq(null, $d[0]['event']['data']['from'], 'a system message has no sender');
    },

    'no message.offline for a user who is online' => function (): void {
        hook();
        $a = T::client('A');
        $u1 = T::user('A', 'wn1');
        $on = T::user('A', 'wnon');
        $off = T::user('A', 'wnoff');
        $a->addFriendship($u1['ext'], $on['ext']);
        $a->addFriendship($u1['ext'], $off['ext']);
        T::head(T::token($on));            // polled just now: online
        $mOn = $a->sendMessage($u1['ext'], $on['ext'], null, ['text' => 'you are online'])['message'];
        $mOff = $a->sendMessage($u1['ext'], $off['ext'], null, ['text' => 'you are not'])['message'];
        wait_delivery('message.offline', fn ($e) => ($e['data']['message']['id'] ?? 0) === $mOff['id']);
        usleep(1500000);
        $for = array_filter(T::deliveries(hook()['dir']), static fn ($d) => ($d['event']['data']['message']['id'] ?? 0) === $mOn['id']);
        T::eq([], array_values($for), 'nothing about the online user\'s message');
    },

    'friend.request: a user asks one of the site\'s users' => function (): void {
        hook();
        $from = T::user('A', 'wf1');
        $to = T::user('A', 'wf2');
        $req = T::apiOk(201, 'POST', '/api/v1/friends/requests', T::token($from), ['user_id' => $to['id'], 'memo' => 'we met at the shop']);
        $d = wait_delivery('friend.request', fn ($e) => ($e['data']['request']['id'] ?? 0) === $req['request']['id']);
        assert_delivery($d[0], 'friend.request', $to);
        T::eq($from['ext'], $d[0]['event']['data']['from']['external_id'], 'data.from is the asker');
        T::eq('we met at the shop', $d[0]['event']['data']['request']['memo'], 'the memo');
    },

    'call.missed: a call to an offline friend' => function (): void {
        hook();
        $a = T::client('A');
        $caller = T::user('A', 'wc1');
        $callee = T::user('A', 'wc2');
        $a->addFriendship($caller['ext'], $callee['ext']);
        $r = T::api('POST', '/api/v1/calls', T::token($caller), ['to' => $callee['id'], 'media' => 'video']);
        T::eq([409, 'callee_offline'], [$r['status'], $r['json']['error']['code'] ?? null], 'the callee is offline: ' . $r['raw']);
        $d = wait_delivery('call.missed', fn ($e) => ($e['data']['user']['external_id'] ?? '') === $callee['ext']);
        assert_delivery($d[0], 'call.missed', $callee);
        $e = $d[0]['event']['data'];
        T::eq($caller['ext'], $e['from']['external_id'], 'data.from is the caller');
        T::eq(['video', 'callee_offline'], [$e['call']['media'], $e['call']['reason']], 'the call');
        T::ok(is_int($e['call']['id']), 'the call id');
    },

    'a failed delivery is retried until acknowledged' => function (): void {
        $h = hook();
        $a = T::client('A');
        $u1 = T::user('A', 'wr1');
        $u2 = T::user('A', 'wr2');
        $a->addFriendship($u1['ext'], $u2['ext']);
        touch($h['dir'] . '/fail-once-' . md5($u2['ext']));
        $m = $a->sendMessage($u1['ext'], $u2['ext'], null, ['text' => 'retry me'])['message'];
        $isIt = fn ($e) => ($e['data']['message']['id'] ?? 0) === $m['id'];
        T::until(static function () use ($h, $isIt) {
            foreach (T::deliveries($h['dir']) as $d) {
                if ($d['verified'] && $d['status'] === 200 && $isIt($d['event'])) {
                    return true;
                }
            }
            return false;
        }, 20, 'the acknowledged retry');
        usleep(1500000);            // anything after the acknowledgement would show up by now
        $attempts = wait_delivery('message.offline', $isIt);
        T::eq([500, 200], array_column($attempts, 'status'), 'one refused attempt, then one acknowledged');
        T::eq($attempts[0]['event'], $attempts[1]['event'], 'the same event (same id) both times');
        $gap = $attempts[1]['at'] - $attempts[0]['at'];
        T::ok($gap >= 0.2 && $gap < 10, sprintf('retried after a back-off (%.2f s)', $gap));
        assert_delivery($attempts[1], 'message.offline', $u2);

        $list = $a->webhookDeliveries('delivered', 100)['deliveries'];
        $row = array_values(array_filter($list, static fn ($x) => (string) $x['id'] === (string) $attempts[0]['event']['id']));
        T::eq(1, count($row), 'the site\'s delivery log has it: ' . T::show($list));
        T::eq([2, 200, 'delivered'], [$row[0]['attempts'], $row[0]['last_status'], $row[0]['state']], 'two attempts, delivered');
    },

    'only the subscribed events are sent' => function (): void {
        $h = hook();
        $a = T::client('A');
        $a->setWebhook($h['hook'], ['friend.request']);
        try {
            $u1 = T::user('A', 'ws1');
            $u2 = T::user('A', 'ws2');
            $a->addFriendship($u1['ext'], $u2['ext']);
            $m = $a->sendMessage($u1['ext'], $u2['ext'], null, ['text' => 'no hook for this'])['message'];
            $asker = T::user('A', 'ws3');
            $req = T::apiOk(201, 'POST', '/api/v1/friends/requests', T::token($asker), ['user_id' => $u2['id']]);
            wait_delivery('friend.request', fn ($e) => ($e['data']['request']['id'] ?? 0) === $req['request']['id']);
            usleep(1000000);
            $for = array_filter(T::deliveries($h['dir']), static fn ($d) => ($d['event']['data']['message']['id'] ?? 0) === $m['id']);
            T::eq([], array_values($for), 'no message.offline while unsubscribed');
        } finally {
            $a->setWebhook($h['hook']);
        }
    },

    'every delivery the receiver got was genuine' => function (): void {
        $all = T::deliveries(hook()['dir']);
        T::ok(count($all) >= 6, 'deliveries were received: ' . count($all));
        $bad = array_filter($all, static fn ($d) => !$d['verified']);
        T::eq([], array_values($bad), 'none failed verification');
    },
];
