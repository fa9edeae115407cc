<?php
/**
 * A site imports its social graph: POST/DELETE /api/v1/server/friendships
 * make or end a friendship at once, and both users see it through the
 * normal API (GET /api/v1/friends) and on their event streams.
 */

declare(strict_types=1);

/** The Parley ids in the user's friend list. */
function friend_ids(string $token): array
{
    $r = T::apiOk(200, 'GET', '/api/v1/friends', $token);
    $ids = array_map(static fn ($f) => $f['id'], $r['friends']);
    sort($ids);
    return $ids;
}

return [
    'add (201), add again (200), remove, remove again' => function (): void {
        $a = T::client('A');
        $u1 = T::user('A', 'fr1');
        $u2 = T::user('A', 'fr2');
        $t1 = T::token($u1);
        $t2 = T::token($u2);
        $since1 = T::head($t1);
        $since2 = T::head($t2);
        T::eq([], friend_ids($t1), 'no friends yet');

        $r = $a->addFriendship($u1['ext'], $u2['ext']);
        T::eq(201, $a->lastStatus(), 'created');
        T::eq(['created' => true], $r, 'the reply');
        T::eq([$u2['id']], friend_ids($t1), 'u1 sees u2');
        T::eq([$u1['id']], friend_ids($t2), 'u2 sees u1');
        $ev = T::waitEvent($t1, $since1, fn ($e) => $e['type'] === 'friend.added');
        $users = $ev['data']['users'];
        sort($users);
        T::eq([$u1['id'], $u2['id']], $users, 'friend.added names both');
        T::waitEvent($t2, $since2, fn ($e) => $e['type'] === 'friend.added');

        $r = $a->addFriendship($u2['ext'], $u1['ext']);
        T::eq(200, $a->lastStatus(), 'again, either order: 200 not 201');
        T::eq(['created' => false], $r, 'the reply');
        T::eq([$u2['id']], friend_ids($t1), 'still one friendship');

        $r = $a->removeFriendship($u1['ext'], $u2['ext']);
        T::eq(200, $a->lastStatus(), 'removed');
        T::eq(['removed' => true], $r, 'the reply');
        T::eq([], friend_ids($t1), 'gone for u1');
        T::eq([], friend_ids($t2), 'gone for u2');
        $ev = T::waitEvent($t2, $since2, fn ($e) => $e['type'] === 'friend.removed');
        T::ok(in_array($u1['id'], $ev['data']['users'], true), 'friend.removed names u1');

        T::eq(['removed' => false], $a->removeFriendship($u1['ext'], $u2['ext']), 'removing again: removed false');
        T::eq(200, $a->lastStatus(), 'still 200');
    },

    'the imported friends can message each other' => function (): void {
        $a = T::client('A');
        $u1 = T::user('A', 'frm1');
        $u2 = T::user('A', 'frm2');
        $a->addFriendship($u1['ext'], $u2['ext']);
        $r = T::api('POST', '/api/v1/messages', T::token($u1),
            ['to' => $u2['id'], 'type' => 'text', 'body' => ['text' => 'hello friend']]);
        T::eq(201, $r['status'], 'a direct message between imported friends: ' . $r['raw']);
    },

    'a pending request between them becomes the friendship' => function (): void {
        $a = T::client('A');
        $u1 = T::user('A', 'frp1');
        $u2 = T::user('A', 'frp2');
        $t1 = T::token($u1);
        $t2 = T::token($u2);
        T::apiOk(201, 'POST', '/api/v1/friends/requests', $t1, ['user_id' => $u2['id'], 'memo' => 'hi']);
        $a->addFriendship($u1['ext'], $u2['ext']);
        T::eq(201, $a->lastStatus(), 'created');
        $pending = T::apiOk(200, 'GET', '/api/v1/friends/requests', $t2);
        T::eq(['incoming' => [], 'outgoing' => []], $pending, 'no pending request left');
    },

    'blocked users cannot be made friends; bad pairs are 400' => function (): void {
        $a = T::client('A');
        $u1 = T::user('A', 'frb1');
        $u2 = T::user('A', 'frb2');
        T::apiOk(201, 'POST', '/api/v1/blocks', T::token($u2), ['user_id' => $u1['id']]);
        T::apiError(409, 'blocked', fn () => $a->addFriendship($u1['ext'], $u2['ext']), 'u2 blocked u1');
        T::apiError(400, 'invalid_field', fn () => $a->addFriendship($u1['ext'], $u1['ext']), 'a user with themselves');
        T::apiError(404, 'unknown_user', fn () => $a->addFriendship($u1['ext'], T::uniq('ext-nobody')), 'an unknown user');
    },
];
