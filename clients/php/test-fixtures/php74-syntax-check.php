<?php
/**
 * Test helper: flags PHP 8.0+ syntax and functions in the given files, since the client must run on
 * PHP 7.4 and only a newer PHP is installed to lint it. Prints one problem per line; exit 1 if any.
 *
 * Usage: php php74-syntax-check.php file.php [file.php ...]
 */

$php8Tokens = array('T_MATCH', 'T_ENUM', 'T_READONLY', 'T_NULLSAFE_OBJECT_OPERATOR', 'T_ATTRIBUTE');
$php8Functions = array('str_contains', 'str_starts_with', 'str_ends_with', 'get_debug_type', 'array_is_list', 'fdiv', 'get_resource_id', 'preg_last_error_msg', 'enum_exists');
$php8Types = array('mixed', 'static', 'never', 'false', 'null');
$problems = array();

foreach (array_slice($argv, 1) as $file) {
    $all = token_get_all((string) file_get_contents($file));
    $t = array();
    foreach ($all as $token) {
        if (!is_array($token) || !in_array($token[0], array(T_WHITESPACE, T_COMMENT, T_DOC_COMMENT), true)) {
            $t[] = $token;
        }
    }
    $kind = function ($i) use ($t) {
        if (!isset($t[$i])) {
            return '';
        }
        return is_array($t[$i]) ? token_name($t[$i][0]) : $t[$i];
    };
    $line = 1;
    $report = function ($what) use (&$problems, $file, &$line) {
        $problems[] = basename($file) . ':' . $line . ': ' . $what;
    };
    $count = count($t);
    for ($i = 0; $i < $count; $i++) {
        $line = is_array($t[$i]) ? $t[$i][2] : $line;
        $k = $kind($i);
        if (in_array($k, $php8Tokens, true)) {
            $report($k);
        }
        if ($k === 'T_STRING' && $kind($i + 1) === '(' && $kind($i - 1) !== 'T_OBJECT_OPERATOR' && $kind($i - 1) !== 'T_DOUBLE_COLON' && $kind($i - 1) !== 'T_FUNCTION'
            && in_array(strtolower($t[$i][1]), $php8Functions, true)) {
            $report('PHP 8 function ' . $t[$i][1] . '()');
        }
        if ($k === 'T_CATCH') {
            for ($j = $i + 1; $j < $count && $kind($j) !== ')'; $j++) {
                if ($kind($j) === 'T_VARIABLE') {
                    continue 2;
                }
            }
            $report('catch without a variable');
        }
        if ($k === 'T_STRING' && ($kind($i - 1) === '(' || $kind($i - 1) === ',') && $kind($i + 1) === ':') {
            $report('named argument ' . $t[$i][1] . ':');
        }
        if ($k === '(' && $kind($i + 1) === 'T_ELLIPSIS' && $kind($i + 2) === ')') {
            $report('first-class callable syntax');
        }
        if ($k === 'T_THROW' && in_array($kind($i - 1), array('T_COALESCE', 'T_DOUBLE_ARROW', '?', ':'), true)) {
            $report('throw as an expression');
        }
        if ($k === 'T_VARIABLE' && $kind($i + 1) === 'T_DOUBLE_COLON' && $kind($i + 2) === 'T_CLASS') {
            $report('$object::class');
        }
        if (($k === 'T_FUNCTION' || $k === 'T_FN' || $k === 'T_USE') && ($kind($i + 1) === '(' || $kind($i + 2) === '(' || $kind($i + 3) === '(')) {
            // Parameter (or closure use) list: no trailing comma, no union or PHP 8 types.
            $j = $i + 1;
            while ($j < $count && $kind($j) !== '(') {
                $j++;
            }
            $depth = 0;
            $beforeVariable = true;
            for (; $j < $count; $j++) {
                $kj = $kind($j);
                if ($kj === '(') {
                    $depth++;
                } elseif ($kj === ')') {
                    $depth--;
                    if ($depth === 0) {
                        break;
                    }
                } elseif ($depth === 1 && $kj === ',') {
                    $beforeVariable = true;
                    if ($kind($j + 1) === ')') {
                        $report('trailing comma in a parameter list');
                    }
                } elseif ($depth === 1 && $kj === 'T_VARIABLE') {
                    $beforeVariable = false;
                } elseif ($depth === 1 && $beforeVariable && $kj === '|') {
                    $report('union type');
                } elseif ($depth === 1 && $beforeVariable && $kj === 'T_STRING' && strtolower($t[$j][1]) === 'mixed') {
                    $report('mixed type');
                } elseif ($depth === 1 && $beforeVariable && in_array($kj, array('T_PUBLIC', 'T_PROTECTED', 'T_PRIVATE'), true)) {
                    $report('constructor property promotion');
                }
            }
            if ($k !== 'T_USE' && $kind($j + 1) === ':') {
                for ($r = $j + 2; $r < $count && !in_array($kind($r), array('{', ';', 'T_DOUBLE_ARROW'), true); $r++) {
                    if ($kind($r) === '|') {
                        $report('union return type');
                    }
                    $word = is_array($t[$r]) ? strtolower($t[$r][1]) : '';
                    if (in_array($word, $php8Types, true)) {
                        $report('return type ' . $word);
                    }
                }
            }
        }
    }
}

foreach ($problems as $problem) {
    echo $problem, "\n";
}
exit($problems ? 1 : 0);
