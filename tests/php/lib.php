<?php
/**
 * Helpers for tests/php: assertions (counted, so a test without any
 * fails), raw HTTP for requests the library would never send (forged,
 * replayed, tampered), users with unique names, tickets turned into
 * tokens, event-stream polling, and child processes that are cleaned up
 * after each file.
 */

declare(strict_types=1);

use Parley\ApiException;
use Parley\Client;

final class TestFailure extends RuntimeException
{
}

final class T
{
    public static int $assertions = 0;
    /** @var list<callable> */
    private static array $deferred = [];
    /** @var array<string,Client> */
    private static array $clients = [];

    // ------------------------------------------------------------ assertions

    public static function fail(string $message): never
    {
        throw new TestFailure($message);
    }

    /** Skipping is failing: a skipped test proves nothing. */
    public static function skip(string $why): never
    {
        throw new TestFailure("skipped: $why");
    }

    public static function ok(bool $condition, string $what): void
    {
        self::$assertions++;
        if (!$condition) {
            self::fail($what);
        }
    }

    public static function eq(mixed $expected, mixed $actual, string $what): void
    {
        self::$assertions++;
        if ($expected !== $actual) {
            self::fail("$what: expected " . self::show($expected) . ', got ' . self::show($actual));
        }
    }

    /** Runs $fn, which must throw ApiException with this status and code. */
    public static function apiError(int $status, string $code, callable $fn, string $what): ApiException
    {
        try {
            $result = $fn();
        } catch (ApiException $e) {
            self::eq("$status $code", $e->getStatus() . ' ' . $e->getErrorCode(), "$what (" . $e->getMessage() . ')');
            return $e;
        }
        self::fail("$what: expected $status $code, got success " . self::show($result));
    }

    public static function show(mixed $v): string
    {
        $s = json_encode($v, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_PRESERVE_ZERO_FRACTION);
        if ($s === false) {
            $s = var_export($v, true);
        }
        return strlen($s) > 600 ? substr($s, 0, 600) . '…' : $s;
    }

    /**
     * A JSON value with object keys sorted (recursively), so two values are
     * the same JSON iff their canonical() strings are equal; keeps {} and []
     * apart (decode with objects, not assoc arrays).
     */
    public static function canonical(mixed $v): string
    {
        $sort = static function (mixed $x) use (&$sort): mixed {
            if ($x instanceof stdClass) {
                $a = get_object_vars($x);
                ksort($a, SORT_STRING);
                $o = new stdClass();
                foreach ($a as $k => $val) {
                    $o->{$k} = $sort($val);
                }
                return $o;
            }
            return is_array($x) ? array_map($sort, $x) : $x;
        };
        return json_encode($sort($v), JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_PRESERVE_ZERO_FRACTION);
    }

    // ------------------------------------------------------------ environment

    public static function env(string $name): string
    {
        $v = getenv($name);
        if ($v === false || $v === '') {
            self::fail("environment variable $name is not set (the online tests need a running stack)");
        }
        return $v;
    }

    public static function url(): string
    {
        return rtrim(self::env('PARLEY_URL'), '/');
    }

    /**
     * A fresh scratch directory under $PARLEY_VAR/php (kept for looking
     * at after a failure), or under the system's temp directory when the
     * offline tests run without PARLEY_VAR.
     */
    public static function scratch(string $name): string
    {
        $var = getenv('PARLEY_VAR') ?: sys_get_temp_dir() . '/parley-php-tests';
        $dir = $var . '/php/' . $name . '-' . bin2hex(random_bytes(4));
        if (!is_dir($dir) && !mkdir($dir, 0700, true)) {
            self::fail("cannot create $dir");
        }
        return $dir;
    }

    /** The library's client for site A or B. */
    public static function client(string $site = 'A'): Client
    {
        return self::$clients[$site] ??= $site === 'A'
            ? new Client(self::url(), self::env('PARLEY_SITE'), self::env('PARLEY_SECRET'), 30.0)
            : new Client(self::url(), self::env('PARLEY_SITE2'), self::env('PARLEY_SECRET2'), 30.0);
    }

    public static function siteName(string $site = 'A'): string
    {
        return self::env($site === 'A' ? 'PARLEY_SITE' : 'PARLEY_SITE2');
    }

    public static function secret(string $site = 'A'): string
    {
        return self::env($site === 'A' ? 'PARLEY_SECRET' : 'PARLEY_SECRET2');
    }

    /** Unique per run: the database outlives a test run. */
    public static function uniq(string $prefix): string
    {
        return $prefix . '-' . bin2hex(random_bytes(5));
    }

    // ------------------------------------------------------------ users

    /**
     * A new user of $site, linked to a fresh external id.
     *
     * @return array{ext:string, id:int, username:string, user:array}
     */
    public static function user(string $site = 'A', string $prefix = 'u'): array
    {
        $ext = self::uniq('ext-' . $prefix);
        $username = str_replace('-', '_', self::uniq('php_' . $prefix));
        $r = self::client($site)->upsertUser($ext, $username, ucfirst($prefix) . ' ' . substr($ext, -4));
        self::eq(201, self::client($site)->lastStatus(), 'creating a user answers 201');
        $user = $r['user'] ?? null;
        self::ok(is_array($user) && is_int($user['id'] ?? null), 'upsertUser returns {"user":{"id",...}}: ' . self::show($r));
        return ['ext' => $ext, 'id' => $user['id'], 'username' => $username, 'user' => $user];
    }

    /** Signs the user in the way the embedded client does: ticket, then redeem. */
    public static function token(array $user, string $site = 'A'): string
    {
        $t = self::client($site)->createLoginTicket($user['ext']);
        $r = self::client($site)->redeemTicket($t['ticket']);
        self::ok(is_string($r['token'] ?? null), 'redeeming a ticket returns a token: ' . self::show($r));
        return $r['token'];
    }

    // ------------------------------------------------------------ HTTP

    /**
     * One raw request to Parley (or any absolute URL).
     *
     * @param array<string,string> $headers
     * @return array{status:int, json:mixed, raw:string}
     */
    public static function http(string $method, string $pathOrUrl, array $headers = [], ?string $body = null, float $timeout = 30): array
    {
        $url = str_starts_with($pathOrUrl, 'http') ? $pathOrUrl : self::url() . $pathOrUrl;
        $lines = ['Expect:'];
        foreach ($headers as $k => $v) {
            $lines[] = "$k: $v";
        }
        $ch = curl_init($url);
        curl_setopt_array($ch, [
            CURLOPT_CUSTOMREQUEST => $method,
            CURLOPT_HTTPHEADER => $lines,
            CURLOPT_RETURNTRANSFER => true,
            CURLOPT_TIMEOUT_MS => (int) ($timeout * 1000),
        ]);
        if ($body !== null) {
            curl_setopt($ch, CURLOPT_POSTFIELDS, $body);
        }
        $raw = curl_exec($ch);
        $status = (int) curl_getinfo($ch, CURLINFO_RESPONSE_CODE);
        $err = curl_error($ch);
        curl_close($ch);
        if (!is_string($raw)) {
            self::fail("$method $url: $err");
        }
        return ['status' => $status, 'json' => json_decode($raw, true), 'raw' => $raw];
    }

    /** A user-token call to the normal API; returns the same shape as http(). */
    public static function api(string $method, string $path, string $token, mixed $json = null, float $timeout = 30): array
    {
        $h = ['Authorization' => "Bearer $token"];
        $body = null;
        if ($json !== null) {
            $h['Content-Type'] = 'application/json';
            $body = json_encode($json, JSON_UNESCAPED_SLASHES);
        }
        return self::http($method, $path, $h, $body, $timeout);
    }

    /** api() that must answer $status; returns the decoded body. */
    public static function apiOk(int $status, string $method, string $path, string $token, mixed $json = null): array
    {
        $r = self::api($method, $path, $token, $json);
        self::eq($status, $r['status'], "$method $path: " . $r['raw']);
        return is_array($r['json']) ? $r['json'] : [];
    }

    // ------------------------------------------------------------ events

    /** The head of the user's event stream (also marks them online). */
    public static function head(string $token): int
    {
        $r = self::apiOk(200, 'GET', '/api/v1/events', $token);
        return (int) $r['next'];
    }

    /**
     * Long-polls from $since until an event matches, within $seconds.
     * $since moves on past every event seen; $seen collects them all.
     * Events are decoded as assoc arrays, and additionally as objects in
     * the '_obj' key (for exact JSON comparisons).
     */
    public static function waitEvent(string $token, int &$since, callable $match, float $seconds = 15, ?array &$seen = null): array
    {
        $seen ??= [];
        $deadline = microtime(true) + $seconds;
        while (($left = $deadline - microtime(true)) > 0) {
            $wait = max(0, min(5, (int) floor($left)));
            $r = self::api('GET', "/api/v1/events?since=$since&timeout=$wait", $token, null, $wait + 10);
            self::ok($r['status'] === 200, 'polling events: ' . $r['status'] . ' ' . $r['raw']);
            $objs = json_decode($r['raw'], false)->events;
            foreach ($r['json']['events'] as $i => $ev) {
                $ev['_obj'] = $objs[$i];
                $seen[] = $ev;
                $since = (int) $ev['seq'];
                if ($match($ev)) {
                    return $ev;
                }
            }
            $since = max($since, (int) $r['json']['next']);
        }
        self::fail(sprintf('no matching event within %.0f s; saw: %s', $seconds,
            self::show(array_map(static fn ($e) => $e['type'] . ' ' . self::show($e['data'] ?? null), $seen))));
    }

    // ------------------------------------------------------------ processes, cleanup

    public static function defer(callable $fn): void
    {
        self::$deferred[] = $fn;
    }

    /** @return list<string> problems met while cleaning up */
    public static function runDeferred(): array
    {
        $problems = [];
        while ($fn = array_pop(self::$deferred)) {
            try {
                $fn();
            } catch (Throwable $e) {
                $problems[] = get_class($e) . ': ' . $e->getMessage();
            }
        }
        return $problems;
    }

    public static function freePort(): int
    {
        $s = stream_socket_server('tcp://127.0.0.1:0', $errno, $errstr);
        if ($s === false) {
            self::fail("no free port: $errstr");
        }
        $name = stream_socket_get_name($s, false);
        fclose($s);
        return (int) substr($name, strrpos($name, ':') + 1);
    }

    /**
     * Starts `php -S 127.0.0.1:<port> [-t docroot] [router]` with $env
     * added, waits until it answers, and stops it after the file. Returns
     * the base URL.
     *
     * @param array<string,string> $env
     */
    public static function phpServer(?string $router, array $env, string $logFile, ?string $docroot = null): string
    {
        $port = self::freePort();
        $cmd = [PHP_BINARY, '-S', "127.0.0.1:$port"];
        if ($docroot !== null) {
            array_push($cmd, '-t', $docroot);
        }
        if ($router !== null) {
            $cmd[] = $router;
        }
        $proc = proc_open($cmd, [0 => ['file', '/dev/null', 'r'], 1 => ['file', $logFile, 'a'], 2 => ['file', $logFile, 'a']],
            $pipes, null, $env + getenv());
        if (!is_resource($proc)) {
            self::fail('cannot start php -S');
        }
        self::defer(static function () use ($proc): void {
            proc_terminate($proc);
            proc_close($proc);
        });
        $base = "http://127.0.0.1:$port";
        for ($i = 0; $i < 100; $i++) {
            $c = @fsockopen('127.0.0.1', $port, $errno, $errstr, 0.2);
            if ($c) {
                fclose($c);
                return $base;
            }
            usleep(50000);
        }
        self::fail("php -S on port $port did not start; log: " . @file_get_contents($logFile));
    }

    /**
     * Starts tests/php/receiver.php (verifies with the library, records
     * every delivery) for $secret.
     *
     * @return array{url:string, dir:string}
     */
    public static function receiver(string $secret): array
    {
        $dir = self::scratch('receiver');
        $url = self::phpServer(__DIR__ . '/receiver.php',
            ['PARLEY_HOOK_SECRET' => $secret, 'PARLEY_HOOK_DIR' => $dir], $dir . '/server.log');
        return ['url' => $url, 'dir' => $dir];
    }

    /** @return list<array<string,mixed>> what the receiver in $dir recorded, oldest first */
    public static function deliveries(string $dir): array
    {
        $file = $dir . '/deliveries.jsonl';
        if (!is_file($file)) {
            return [];
        }
        $out = [];
        foreach (file($file, FILE_IGNORE_NEW_LINES | FILE_SKIP_EMPTY_LINES) as $line) {
            $out[] = json_decode($line, true);
        }
        return $out;
    }

    /** Polls $fn until it returns a truthy value, within $seconds. */
    public static function until(callable $fn, float $seconds, string $what): mixed
    {
        $deadline = microtime(true) + $seconds;
        do {
            $v = $fn();
            if ($v) {
                return $v;
            }
            usleep(100000);
        } while (microtime(true) < $deadline);
        self::fail("timed out after {$seconds} s waiting for $what");
    }
}
