<?php
/**
 * Runs the PHP client's tests with plain php-cli (no PHPUnit):
 *
 *     php tests/php/run.php                 every tests/php/*_test.php
 *     php tests/php/run.php signer webhook  only files whose name contains a word
 *
 * Each *_test.php returns an array of test name => callable. One line per
 * test, "ok <name>" or "FAIL <name>: <reason>", then "php: P passed, F failed";
 * exit status 0 only if nothing failed. A test that made no assertion
 * counts as failed (it could not have failed), and so does a skipped one.
 * Cleanups registered with T::defer() run after each file.
 *
 * Environment (from scripts/test.sh): PARLEY_URL, PARLEY_SITE/PARLEY_SECRET
 * (site A), PARLEY_SITE2/PARLEY_SECRET2 (site B), PARLEY_VAR (scratch),
 * PARLEY_ONLINE_WINDOW. The signer, embed and webhook-verifier files need
 * none of it; the others fail without it.
 */

declare(strict_types=1);

require __DIR__ . '/../../clients/php/autoload.php';
require __DIR__ . '/lib.php';

$filters = array_slice($argv, 1);
$files = glob(__DIR__ . '/*_test.php') ?: [];
sort($files);
if ($filters) {
    $files = array_values(array_filter($files, static function (string $f) use ($filters): bool {
        foreach ($filters as $word) {
            if (str_contains(basename($f), $word)) {
                return true;
            }
        }
        return false;
    }));
}

$passed = 0;
$failed = 0;
$report = static function (bool $ok, string $name, string $why = '') use (&$passed, &$failed): void {
    if ($ok) {
        $passed++;
        echo "ok $name\n";
    } else {
        $failed++;
        echo 'FAIL ' . $name . ': ' . str_replace("\n", "\n    ", rtrim($why)) . "\n";
    }
};

foreach ($files as $file) {
    $group = basename($file, '_test.php');
    try {
        $tests = require $file;
        if (!is_array($tests) || !$tests) {
            throw new RuntimeException('the file returned no tests');
        }
    } catch (Throwable $e) {
        $report(false, $group, 'loading: ' . get_class($e) . ': ' . $e->getMessage());
        continue;
    }
    foreach ($tests as $name => $fn) {
        $full = "$group: $name";
        T::$assertions = 0;
        $t0 = microtime(true);
        try {
            $fn();
            if (T::$assertions === 0) {
                $report(false, $full, 'made no assertion');
            } else {
                $report(true, $full);
            }
        } catch (Throwable $e) {
            $where = basename($e->getFile()) . ':' . $e->getLine();
            foreach ($e->getTrace() as $frame) {
                if (isset($frame['file']) && str_ends_with($frame['file'], '_test.php')) {
                    $where = basename($frame['file']) . ':' . $frame['line'];
                    break;
                }
            }
            $kind = $e instanceof TestFailure ? '' : get_class($e) . ': ';
            $report(false, $full, sprintf('%s%s (%s, %.1f s)', $kind, $e->getMessage(), $where, microtime(true) - $t0));
        }
    }
    foreach (T::runDeferred() as $problem) {
        $report(false, "$group: cleanup", $problem);
    }
}

echo "php: $passed passed, $failed failed\n";
exit($failed === 0 && $passed > 0 ? 0 : 1);
