//! A .gitignore matcher, step for step the same as `native/fallback/gitignore.ts`: per-directory
//! rule files, `*`, `**`, `?`, `[...]` (`!` or `^` negates), `\` escapes, `!` negation, anchoring
//! by a leading or inner `/`, trailing `/` for directories, last matching rule wins. Globs are
//! matched by a dynamic programme over code points; wildcards and classes never match `/`.

#[derive(Debug, Clone)]
enum Token {
    Lit(char),
    Any,
    Star,
    GlobStar,
    /// `(?:.*/)?`: nothing, or anything ending with `/`.
    Dirs,
    Class {
        negate: bool,
        ranges: Vec<(char, char)>,
    },
}

#[derive(Debug, Clone)]
struct Rule {
    tokens: Vec<Token>,
    negate: bool,
    dir_only: bool,
}

fn compile(glob: &[char], anchored: bool) -> Vec<Token> {
    let mut out = if anchored { vec![] } else { vec![Token::Dirs] };
    let mut i = 0;
    while i < glob.len() {
        let c = glob[i];
        match c {
            '*' if glob.get(i + 1) == Some(&'*') => {
                if glob.get(i + 2) == Some(&'/') {
                    out.push(Token::Dirs);
                    i += 2;
                } else {
                    out.push(Token::GlobStar);
                    i += 1;
                }
            }
            '*' => out.push(Token::Star),
            '?' => out.push(Token::Any),
            '[' => match glob[i + 1..].iter().position(|&x| x == ']') {
                None => out.push(Token::Lit('[')),
                Some(off) => {
                    let close = i + 1 + off;
                    let mut body = &glob[i + 1..close];
                    let negate = matches!(body.first(), Some('!') | Some('^'));
                    if negate {
                        body = &body[1..];
                    }
                    let mut ranges = Vec::new();
                    let mut j = 0;
                    while j < body.len() {
                        let a = body[j];
                        match (body.get(j + 1), body.get(j + 2)) {
                            (Some('-'), Some(&b)) => {
                                ranges.push((a, b));
                                j += 3;
                            }
                            _ => {
                                ranges.push((a, a));
                                j += 1;
                            }
                        }
                    }
                    out.push(Token::Class { negate, ranges });
                    i = close;
                }
            },
            '\\' if i + 1 < glob.len() => {
                i += 1;
                out.push(Token::Lit(glob[i]));
            }
            _ => out.push(Token::Lit(c)),
        }
        i += 1;
    }
    out
}

fn one(tok: &Token, c: char) -> bool {
    match tok {
        Token::Lit(l) => *l == c,
        Token::Any => c != '/',
        Token::Class { negate, ranges } => {
            c != '/' && ranges.iter().any(|&(a, b)| a <= c && c <= b) != *negate
        }
        _ => false,
    }
}

fn matches(tokens: &[Token], path: &[char]) -> bool {
    let n = path.len();
    let mut dp = vec![false; n + 1];
    dp[0] = true;
    for tok in tokens {
        let mut next = vec![false; n + 1];
        match tok {
            Token::Star | Token::GlobStar => {
                let globstar = matches!(tok, Token::GlobStar);
                for j in 0..=n {
                    next[j] = dp[j] || (j > 0 && next[j - 1] && (globstar || path[j - 1] != '/'));
                }
            }
            Token::Dirs => {
                let mut seen = false;
                for j in 0..=n {
                    next[j] = dp[j] || (j > 0 && seen && path[j - 1] == '/');
                    if dp[j] {
                        seen = true;
                    }
                }
            }
            _ => {
                for j in 0..n {
                    next[j + 1] = dp[j] && one(tok, path[j]);
                }
            }
        }
        dp = next;
    }
    dp[n]
}

/// Strips trailing spaces and tabs, keeping one that a backslash escapes.
fn trim_trailing(line: &str) -> &str {
    let trimmed = line.trim_end_matches([' ', '\t']);
    if trimmed.len() < line.len() && trimmed.ends_with('\\') {
        &line[..trimmed.len() + 1]
    } else {
        trimmed
    }
}

/// Rules of one .gitignore file, matched against paths relative to its directory.
#[derive(Debug, Clone, Default)]
pub struct IgnoreRules {
    rules: Vec<Rule>,
}

impl IgnoreRules {
    pub fn parse(text: &str) -> IgnoreRules {
        let mut rules = Vec::new();
        for raw in text.split('\n') {
            let mut line = trim_trailing(raw.strip_suffix('\r').unwrap_or(raw));
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let negate = line.starts_with('!');
            if negate {
                line = &line[1..];
            }
            let dir_only = line.ends_with('/');
            if dir_only {
                line = &line[..line.len() - 1];
            }
            let anchored = line.contains('/');
            if let Some(rest) = line.strip_prefix('/') {
                line = rest;
            }
            if line.is_empty() {
                continue;
            }
            let glob: Vec<char> = line.chars().collect();
            rules.push(Rule {
                tokens: compile(&glob, anchored),
                negate,
                dir_only,
            });
        }
        IgnoreRules { rules }
    }

    /// Some(true): ignored, Some(false): re-included, None: no rule matched.
    pub fn matches(&self, rel_path: &str, is_dir: bool) -> Option<bool> {
        let path: Vec<char> = rel_path.chars().collect();
        let mut result = None;
        for r in &self.rules {
            if r.dir_only && !is_dir {
                continue;
            }
            if matches(&r.tokens, &path) {
                result = Some(!r.negate);
            }
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::IgnoreRules;

    #[test]
    fn follows_gitignore_rules() {
        let r =
            IgnoreRules::parse("# c\n*.log\n!keep.log\n/build/\ndocs/**/*.tmp\n[ab]?.txt \n\\#x\n");
        assert_eq!(r.matches("a/b/x.log", false), Some(true));
        assert_eq!(r.matches("keep.log", false), Some(false));
        assert_eq!(r.matches("build", true), Some(true));
        assert_eq!(r.matches("build", false), None);
        assert_eq!(r.matches("src/build", true), None);
        assert_eq!(r.matches("docs/x.tmp", false), Some(true));
        assert_eq!(r.matches("docs/a/b/x.tmp", false), Some(true));
        assert_eq!(r.matches("b1.txt", false), Some(true));
        assert_eq!(r.matches("c1.txt", false), None);
        assert_eq!(r.matches("#x", false), Some(true));
        assert_eq!(r.matches("a/x.logs", false), None);
    }
}
