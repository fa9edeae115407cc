<?php
/**
 * For sites without Composer: `require __DIR__ . '/clients/php/autoload.php';`
 * maps the Parley\ namespace to src/, the same PSR-4 mapping composer.json
 * declares, so both ways load the same files.
 */

declare(strict_types=1);

spl_autoload_register(static function (string $class): void {
    $prefix = 'Parley\\';
    if (strncmp($class, $prefix, strlen($prefix)) !== 0) {
        return;
    }
    $file = __DIR__ . '/src/' . str_replace('\\', '/', substr($class, strlen($prefix))) . '.php';
    if (is_file($file)) {
        require $file;
    }
});
