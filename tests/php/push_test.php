<?php
/**
 * POST /api/v1/server/push: the site's own JSON lands on its users' event
 * streams as {"type":"push","data":{"site","event"}}, to some users, a
 * group's members who are the site's users, or all its users, and never
 * to another site's users.
 */

declare(strict_types=1);

/** An event with every kind of JSON value, decoded to objects so {} stays {}. */
function push_payload(): stdClass
{
    return json_decode('{"kind":"order.shipped","n":' . random_int(1, 1 << 30) . ',"order":{"id":1234,'
        . '"items":[{"sku":"A-1","qty":2,"price":9.5}],"note":"Grüße </script> \"q\" \\\\ \\n \\u2028",'
        . '"empty":{},"list":[],"flag":false,"none":null,"big":9007199254740991,"neg":-1.25e-7}}', false);
}

/** Polls until the push carrying $event arrives; returns that event. */
function wait_push(string $token, int &$since, stdClass|string $event, string $site): array
{
    $want = T::canonical($event);
    $ev = T::waitEvent($token, $since, static fn ($e) => $e['type'] === 'push'
        && T::canonical($e['_obj']->data->event ?? null) === $want);
    T::eq($site, $ev['data']['site'], 'data.site names the pushing site');
    T::eq(['site', 'event'], array_keys($ev['data']), 'data is {site, event}');
    return $ev;
}

/**
 * Asserts that no push from $site reaches $token's stream before a marker
 * pushed now by site B (streams are ordered, so anything pushed earlier
 * would come first).
 */
function assert_no_push_from(string $token, int $since, string $site, array $userB): void
{
    $marker = (object) ['marker' => T::uniq('m')];
    T::client('B')->pushToUsers([$userB['ext']], $marker);
    $seen = [];
    T::waitEvent($token, $since, static fn ($e) => $e['type'] === 'push'
        && T::canonical($e['_obj']->data->event ?? null) === T::canonical($marker), 15, $seen);
    $from = array_filter($seen, static fn ($e) => $e['type'] === 'push' && $e['data']['site'] === $site);
    T::eq([], array_values($from), "no push from $site reached site B's user");
}

return [
    'to users: the exact JSON arrives; unknown ids are reported' => function (): void {
        $a = T::client('A');
        $u1 = T::user('A', 'pu1');
        $t1 = T::token($u1);
        $since = T::head($t1);
        $event = push_payload();
        $nobody = T::uniq('ext-nobody');
        $r = $a->pushToUsers([$u1['ext'], $nobody], $event);
        T::eq(202, $a->lastStatus(), 'accepted');
        T::eq(['recipients' => 1, 'unknown' => [$nobody]], $r, 'one recipient, one unknown id');
        $ev = wait_push($t1, $since, $event, T::siteName('A'));
        T::eq(T::canonical($event), T::canonical($ev['_obj']->data->event), 'the same JSON value');
        T::ok($ev['_obj']->data->event->order->empty instanceof stdClass, '{} stays an object');

        $a->pushToUsers([$u1['ext']], 'just a string');
        wait_push($t1, $since, 'just a string', T::siteName('A'));
    },

    'to a group: only its members who are the site\'s users' => function (): void {
        $a = T::client('A');
        $u1 = T::user('A', 'pg1');
        $u2 = T::user('A', 'pg2');
        $b1 = T::user('B', 'pgb');
        $a->addFriendship($u1['ext'], $u2['ext']);
        $t1 = T::token($u1);
        $t2 = T::token($u2);
        $tb = T::token($b1, 'B');
        // b1 (site B) befriends u1 through the normal API, then joins the group.
        $req = T::apiOk(201, 'POST', '/api/v1/friends/requests', $tb, ['user_id' => $u1['id']]);
        T::apiOk(200, 'POST', '/api/v1/friends/requests/' . $req['request']['id'] . '/accept', $t1);
        $g = T::apiOk(201, 'POST', '/api/v1/groups', $t1, ['name' => 'push group', 'members' => [$u2['id'], $b1['id']]]);
        $gid = $g['group']['id'];
        $s1 = T::head($t1);
        $s2 = T::head($t2);
        $sb = T::head($tb);

        $event = push_payload();
        $r = $a->pushToGroup($gid, $event);
        T::eq(202, $a->lastStatus(), 'accepted');
        T::eq(2, $r['recipients'], 'u1 and u2, not the site B member');
        wait_push($t1, $s1, $event, T::siteName('A'));
        wait_push($t2, $s2, $event, T::siteName('A'));
        assert_no_push_from($tb, $sb, T::siteName('A'), $b1);

        // Site B reaches only b1 in the same group.
        $r = T::client('B')->pushToGroup($gid, (object) ['from' => 'b']);
        T::eq(1, $r['recipients'], 'site B: its one member');
    },

    'to all: every user of the site, none of another site' => function (): void {
        $a = T::client('A');
        $u1 = T::user('A', 'pa1');
        $b1 = T::user('B', 'pab');
        $t1 = T::token($u1);
        $tb = T::token($b1, 'B');
        $s1 = T::head($t1);
        $sb = T::head($tb);
        $event = push_payload();
        $r = $a->pushToAll($event);
        T::eq(202, $a->lastStatus(), 'accepted');
        T::ok($r['recipients'] >= 1, 'at least u1: ' . T::show($r));
        wait_push($t1, $s1, $event, T::siteName('A'));
        assert_no_push_from($tb, $sb, T::siteName('A'), $b1);
    },

    'refused: other sites\' groups, two targets, oversized events' => function (): void {
        $a = T::client('A');
        $u1 = T::user('A', 'pr1');
        $u2 = T::user('A', 'pr2');
        $a->addFriendship($u1['ext'], $u2['ext']);
        $g = T::apiOk(201, 'POST', '/api/v1/groups', T::token($u1), ['name' => 'site A only', 'members' => [$u2['id']]]);
        T::apiError(404, 'group_not_found', fn () => T::client('B')->pushToGroup($g['group']['id'], 'x'), 'site B, site A\'s group');
        T::apiError(400, 'invalid_field', fn () => $a->push(['users' => [$u1['ext']], 'all' => true], 'x'), 'two targets');
        T::apiError(400, 'invalid_field', fn () => $a->push([], 'x'), 'no target');
        T::apiError(400, 'invalid_field', fn () => $a->pushToUsers([$u1['ext']], str_repeat('x', 16 * 1024 + 1)), 'over 16 KiB');
        $r = $a->pushToUsers([$u1['ext']], str_repeat('y', 16 * 1024 - 2));
        T::eq(1, $r['recipients'], 'exactly 16 KiB of JSON is fine');
        T::apiError(400, 'missing_field', fn () => $a->request('POST', '/api/v1/server/push', ['users' => [$u1['ext']]]), 'no event');
    },
];
