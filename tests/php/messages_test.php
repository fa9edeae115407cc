<?php
/**
 * POST /api/v1/server/messages: on behalf of a user (the user's own rules
 * apply: friends only, members only) and system messages from the site,
 * to a user's notices conversation or into a group.
 */

declare(strict_types=1);

/** The conversation's history as the token's user reads it. */
function history(string $token, int $conversationId): array
{
    return T::apiOk(200, 'GET', "/api/v1/conversations/$conversationId/messages?limit=50", $token)['messages'];
}

function has_message(array $messages, int $id): ?array
{
    foreach ($messages as $m) {
        if ($m['id'] === $id) {
            return $m;
        }
    }
    return null;
}

return [
    'on behalf of a user to a friend: history and stream; client_id makes retries safe' => function (): void {
        $a = T::client('A');
        $u1 = T::user('A', 'ms1');
        $u2 = T::user('A', 'ms2');
        $a->addFriendship($u1['ext'], $u2['ext']);
        $t2 = T::token($u2);
        $since = T::head($t2);
        $cid = T::uniq('c');

        $r = $a->sendMessage($u1['ext'], $u2['ext'], null, ['text' => 'Hello from the site, as u1'], 'text', $cid);
        T::eq(201, $a->lastStatus(), 'sent');
        $m = $r['message'];
        T::eq([$u1['id'], 'text', ['text' => 'Hello from the site, as u1'], $cid],
            [$m['from'], $m['type'], $m['body'], $m['client_id']], 'the message is u1\'s');

        $ev = T::waitEvent($t2, $since, fn ($e) => $e['type'] === 'message' && $e['data']['message']['id'] === $m['id']);
        T::eq($m, $ev['data']['message'], 'the recipient\'s stream has it');
        $h = has_message(history($t2, $m['conversation_id']), $m['id']);
        T::ok($h !== null, 'the recipient\'s history has it');
        T::eq($m['body'], $h['body'], 'same body in history');

        $again = $a->sendMessage($u1['ext'], $u2['ext'], null, ['text' => 'a retry'], 'text', $cid);
        T::eq(200, $a->lastStatus(), 'a retry with the same client_id is 200');
        T::eq($m['id'], $again['message']['id'], 'and returns the first message');
    },

    'on behalf to a non-friend is 403 not_friends' => function (): void {
        $a = T::client('A');
        $u1 = T::user('A', 'mn1');
        $u3 = T::user('A', 'mn3');
        T::apiError(403, 'not_friends', fn () => $a->sendMessage($u1['ext'], $u3['ext'], null, ['text' => 'hi']), 'not friends');
        T::apiError(404, 'unknown_user', fn () => $a->sendMessage($u1['ext'], T::uniq('ext-nobody'), null, ['text' => 'hi']), 'unknown recipient');
        T::apiError(400, 'invalid_field', fn () => $a->sendMessage($u1['ext'], $u1['ext'], null, ['text' => 'hi']), 'to themselves');
        T::apiError(400, 'invalid_field', fn () => $a->sendMessage($u1['ext'], $u3['ext'], null, ['text' => 'hi'], 'system'), 'a user cannot send type system');
    },

    'on behalf into a group: members only' => function (): void {
        $a = T::client('A');
        $u1 = T::user('A', 'mg1');
        $u2 = T::user('A', 'mg2');
        $u3 = T::user('A', 'mg3');
        $a->addFriendship($u1['ext'], $u2['ext']);
        $t1 = T::token($u1);
        $g = T::apiOk(201, 'POST', '/api/v1/groups', $t1, ['name' => 'site group', 'members' => [$u2['id']]]);
        $gid = $g['group']['id'];
        $since = T::head($t1);
        $r = $a->sendMessage($u2['ext'], null, $gid, ['text' => 'u2 into the group']);
        T::eq(201, $a->lastStatus(), 'sent');
        T::eq([$gid, $u2['id']], [$r['message']['conversation_id'], $r['message']['from']], 'in the group, from u2');
        T::waitEvent($t1, $since, fn ($e) => $e['type'] === 'message' && $e['data']['message']['id'] === $r['message']['id']);
        // As for the user: a group they are not in is no group to them.
        T::apiError(404, 'group_not_found', fn () => $a->sendMessage($u3['ext'], null, $gid, ['text' => 'let me in']), 'a non-member');
    },

    'a system message to a user lands in their notices from the site' => function (): void {
        $a = T::client('A');
        $u = T::user('A', 'sys1');
        $t = T::token($u);
        $since = T::head($t);
        $r = $a->sendSystemMessage($u['ext'], null, 'Your order #42 has shipped.');
        T::eq(201, $a->lastStatus(), 'sent');
        $m = $r['message'];
        T::eq([null, 'system', ['text' => 'Your order #42 has shipped.']], [$m['from'], $m['type'], $m['body']], 'no sender, type system');
        $ev = T::waitEvent($t, $since, fn ($e) => $e['type'] === 'message' && $e['data']['message']['id'] === $m['id']);
        T::eq($m, $ev['data']['message'], 'on the stream');
        T::ok(has_message(history($t, $m['conversation_id']), $m['id']) !== null, 'in the history');
        $r2 = $a->sendSystemMessage($u['ext'], null, 'And another one.');
        T::eq($m['conversation_id'], $r2['message']['conversation_id'], 'one notices conversation per user and site');
        $convs = T::apiOk(200, 'GET', '/api/v1/conversations', $t)['conversations'];
        $c = array_values(array_filter($convs, static fn ($c) => $c['id'] === $m['conversation_id']));
        T::eq(1, count($c), 'listed among the user\'s conversations');
        // Read-only: the user cannot answer into it.
        $reply = T::api('POST', '/api/v1/messages', $t, ['group_id' => $m['conversation_id'], 'type' => 'text', 'body' => ['text' => 'reply']]);
        T::ok($reply['status'] >= 400 && $reply['status'] < 500, 'the user cannot write into the notices: ' . $reply['status'] . ' ' . $reply['raw']);
    },

    'a system message into a group reaches every member' => function (): void {
        $a = T::client('A');
        $u1 = T::user('A', 'sg1');
        $u2 = T::user('A', 'sg2');
        $a->addFriendship($u1['ext'], $u2['ext']);
        $t1 = T::token($u1);
        $t2 = T::token($u2);
        $gid = T::apiOk(201, 'POST', '/api/v1/groups', $t1, ['name' => 'announcements', 'members' => [$u2['id']]])['group']['id'];
        $s1 = T::head($t1);
        $s2 = T::head($t2);
        $r = $a->sendSystemMessage(null, $gid, 'Welcome to the group!');
        T::eq(201, $a->lastStatus(), 'sent');
        T::eq([$gid, null, 'system'], [$r['message']['conversation_id'], $r['message']['from'], $r['message']['type']], 'a system message in the group');
        $isIt = fn ($e) => $e['type'] === 'message' && $e['data']['message']['id'] === $r['message']['id'];
        T::waitEvent($t1, $s1, $isIt);
        T::waitEvent($t2, $s2, $isIt);
        T::apiError(404, 'group_not_found', fn () => T::client('B')->sendSystemMessage(null, $gid, 'not my group'), 'site B into site A\'s group');
    },

    'the server checks the target and the body' => function (): void {
        $a = T::client('A');
        $u = T::user('A', 'sv');
        T::apiError(400, 'invalid_field', fn () => $a->request('POST', '/api/v1/server/messages',
            ['to' => $u['ext'], 'group_id' => 1, 'body' => ['text' => 'x']]), 'both targets');
        T::apiError(400, 'invalid_field', fn () => $a->request('POST', '/api/v1/server/messages',
            ['body' => ['text' => 'x']]), 'no target');
        T::apiError(400, 'missing_field', fn () => $a->request('POST', '/api/v1/server/messages', ['to' => $u['ext']]), 'no body');
        try {
            $a->sendSystemMessage($u['ext'], 1, 'x');
            T::fail('the library sent a message with both targets');
        } catch (InvalidArgumentException $e) {
            T::ok(true, 'the library refuses both targets itself');
        }
    },
];
