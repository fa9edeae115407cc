<?php
/**
 * Provisioning: PUT /api/v1/server/users/{external_id} creates (201) then
 * updates (200) the linked user; names are unique; a site sees only its
 * own users (README "Sites and secrets").
 */

declare(strict_types=1);

return [
    'create (201), read, update (200)' => function (): void {
        $a = T::client('A');
        $ext = T::uniq('ext-create');
        $name = str_replace('-', '_', T::uniq('php_create'));
        $r = $a->upsertUser($ext, $name, 'First Name');
        T::eq(201, $a->lastStatus(), 'created');
        $u = $r['user'];
        T::eq(['username' => $name, 'display_name' => 'First Name', 'external_id' => $ext],
            ['username' => $u['username'], 'display_name' => $u['display_name'], 'external_id' => $u['external_id']], 'the new user');
        T::ok(is_int($u['id']) && $u['id'] > 0, 'it has a Parley id');

        T::eq($r, $a->getUser($ext), 'getUser returns the same user');

        $r2 = $a->upsertUser($ext, null, 'Second Name');
        T::eq(200, $a->lastStatus(), 'updated');
        $want = ['display_name' => 'Second Name', 'external_id' => $ext, 'id' => $u['id'], 'username' => $name];
        $got = $r2['user'];
        ksort($got);
        T::eq($want, $got, 'only the display name changed');

        $newName = str_replace('-', '_', T::uniq('php_renamed'));
        $r3 = $a->upsertUser($ext, $newName, null);
        T::eq(200, $a->lastStatus(), 'renamed');
        T::eq([$u['id'], $newName, 'Second Name'], [$r3['user']['id'], $r3['user']['username'], $r3['user']['display_name']], 'renamed');
        T::eq($r3, $a->getUser($ext), 'getUser sees the rename');
    },

    'a taken username is 409 username_taken, and nothing is created' => function (): void {
        $a = T::client('A');
        $first = T::user('A', 'taken');
        $ext = T::uniq('ext-second');
        T::apiError(409, 'username_taken', fn () => $a->upsertUser($ext, $first['username'], 'Other'), 'same name, new id');
        T::apiError(404, 'unknown_user', fn () => $a->getUser($ext), 'the failed create left no user');
        $other = T::user('A', 'taken2');
        T::apiError(409, 'username_taken', fn () => $a->upsertUser($other['ext'], $first['username'], null), 'renaming onto it');
        // A user who registered by themselves owns their name too.
        $self = str_replace('-', '_', T::uniq('php_selfreg'));
        $reg = T::http('POST', '/api/v1/auth/register', ['Content-Type' => 'application/json'],
            json_encode(['username' => $self, 'password' => 'correct horse 1']));
        T::eq(201, $reg['status'], 'registered: ' . $reg['raw']);
        T::apiError(409, 'username_taken', fn () => $a->upsertUser(T::uniq('ext-x'), $self, null), 'a self-registered name');
    },

    'creating needs a username; bad names and ids are 400' => function (): void {
        $a = T::client('A');
        T::apiError(400, 'missing_field', fn () => $a->upsertUser(T::uniq('ext-noname'), null, 'No Name'), 'no username');
        T::apiError(400, 'invalid_field', fn () => $a->upsertUser(T::uniq('ext-bad'), 'No Spaces Allowed', null), 'bad username');
        $e = T::apiError(400, 'invalid_path', fn () => $a->upsertUser(str_repeat('x', 129), 'php_toolong', null), '129-char id');
        T::ok($e->getMessage() !== '', 'the error has a message');
        T::apiError(400, 'invalid_path', fn () => $a->getUser('has space'), 'an id with a space');
        T::apiError(400, 'invalid_path', fn () => $a->getUser('slash/inside'), 'an id with a slash');
    },

    'external ids with every allowed punctuation work through rawurlencode' => function (): void {
        $a = T::client('A');
        $ext = 'A.b_c@d:e+f=g-' . bin2hex(random_bytes(4));
        $name = str_replace('-', '_', T::uniq('php_punct'));
        $r = $a->upsertUser($ext, $name, 'Punct');
        T::eq(201, $a->lastStatus(), 'created');
        T::eq($ext, $r['user']['external_id'], 'the external id round-trips');
        T::eq($r, $a->getUser($ext), 'found again');
        T::ok(isset($a->createLoginTicket($ext)['ticket']), 'a ticket for it');
        $max = str_repeat('z', 118) . bin2hex(random_bytes(5));
        $a->upsertUser($max, str_replace('-', '_', T::uniq('php_max')), null);
        T::eq(201, $a->lastStatus(), 'a 128-character id');
    },

    'a site sees only its own users' => function (): void {
        $a = T::client('A');
        $b = T::client('B');
        $ua = T::user('A', 'mine');
        T::apiError(404, 'unknown_user', fn () => $b->getUser($ua['ext']), 'site B looks up site A\'s user');
        T::apiError(404, 'unknown_user', fn () => $b->createLoginTicket($ua['ext']), 'site B asks for a ticket');
        // The same external id at site B is a different person.
        $r = $b->upsertUser($ua['ext'], str_replace('-', '_', T::uniq('php_theirs')), 'Theirs');
        T::eq(201, $b->lastStatus(), 'site B creates its own user with that id');
        T::ok($r['user']['id'] !== $ua['id'], 'a different Parley user');
        T::eq($ua['id'], $a->getUser($ua['ext'])['user']['id'], 'site A still has its own');
        $ub = T::user('B', 'theirs');
        T::apiError(404, 'unknown_user', fn () => $a->addFriendship($ua['ext'], $ub['ext']), 'friendship with another site\'s user');
    },
];
