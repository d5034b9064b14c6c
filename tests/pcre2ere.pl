#!/usr/bin/perl
# pcre2ere.pl - turn "ID<TAB>PCRE2" lines into GNU grep -E patterns for the
# benchmark, one output line per input line so grep runs the same patterns.
#
# Exact: named and non-capturing groups become plain groups; \d \w \s and
# their negations become bracket expressions; \xHH, \t, \r, \e become the
# byte; lazy quantifiers become greedy (same set of matching lines); (?i)
# and (?i:...) become [aA] classes, scoped to their group.  Inside a bracket
# expression, ']' is moved first and '-' last (ERE has no escapes there), and
# \n is dropped (grep never sees a newline inside a line).
# Broader (counted on stderr): lookaround assertions are removed, atomic
# groups and possessive quantifiers become plain ones.  A broader pattern
# matches a superset of lines, so grep does at least the same work.
use strict;
use warnings;

our ($broader, $n) = (0, 0);
my %esc = (t => "\t", r => "\r", e => "\e", f => "\f", v => "\x0b", a => "\a");

sub fold_pair { my $c = shift; return $c =~ /[A-Za-z]/ ? lc($c) . uc($c) : $c; }

# Parse a bracket expression body at the start of $$re (after '['); returns
# ERE text.
sub cls {
	my ($re, $icase) = @_;
	my $neg = ($$re =~ s/^\^//);
	my (@items, $rbr, $dash, $nl) = ();
	my $first = 1;
	while (1) {
		die "unterminated class\n" unless length $$re;
		if (!$first && $$re =~ s/^\]//) { last; }
		$first = 0;
		my $it;
		if ($$re =~ s/^\[:(\^?)([a-z]+):\]//) {
			die "negated POSIX class\n" if $1;
			push @items, "[:$2:]"; next;
		} elsif ($$re =~ s/^\\([dswDSW])//) {
			my %m = (d => '0-9', s => '[:space:]', w => '[:alnum:]_');
			die "negated shorthand in class\n" if $1 =~ /[DSW]/;
			push @items, $m{$1}; next;
		} elsif ($$re =~ s/^\\x\{?([0-9a-fA-F]{1,2})\}?//) {
			$it = chr hex $1;
		} elsif ($$re =~ s/^\\n//) {
			$nl = 1; next;
		} elsif ($$re =~ s/^\\(.)//s) {
			$it = $esc{$1} // $1;
		} else {
			$$re =~ s/^(.)//s; $it = $1;
		}
		# A range?
		if ($$re =~ /^-[^\]]/) {
			$$re =~ s/^-//;
			my $hi;
			if ($$re =~ s/^\\x\{?([0-9a-fA-F]{1,2})\}?//) { $hi = chr hex $1; }
			elsif ($$re =~ s/^\\(.)//s) { $hi = $esc{$1} // $1; }
			else { $$re =~ s/^(.)//s; $hi = $1; }
			my $r = "$it-$hi";
			$r = "]-$hi" if $it eq ']';	# kept first below
			push @items, $r;
			if ($icase && $it =~ /^[a-z]$/ && $hi =~ /^[a-z]$/) { push @items, uc($it) . '-' . uc($hi); }
			elsif ($icase && $it =~ /^[A-Z]$/ && $hi =~ /^[A-Z]$/) { push @items, lc($it) . '-' . lc($hi); }
			next;
		}
		if ($it eq ']') { $rbr = 1; next; }
		if ($it eq '-') { $dash = 1; next; }
		push @items, $icase ? fold_pair($it) : $it;
	}
	# '^' must not come first; ']' must; '-' must be last.
	my $body = join '', @items;
	if ($body =~ /^\^/) { $body = substr($body, 1) . '^'; }
	$body = ']' . $body if $rbr;
	$body .= '-' if $dash;
	if ($body eq '') {
		# [^\n] is any character within a line; [\n] never matches.
		die "class of only a newline\n" if $nl && !$neg;
		return '.' if $nl;
	}
	return '[' . ($neg ? '^' : '') . $body . ']';
}

my $bad = 0;
while (my $line = <STDIN>) {
	chomp $line;
	my ($id, $re) = split /\t/, $line, 2;
	$n++;
	my $ere = eval { convert($re) };
	if (!defined $ere) {
		print STDERR "pcre2ere: $id: cannot convert: $@";
		$bad++;
		next;
	}
	print "$ere\n";
}
print STDERR "pcre2ere: $n patterns converted, $broader broader than the PCRE2 original (lookaround removed, atomic/possessive made plain)\n";
exit($bad ? 1 : 0);

sub convert {
	my $re = shift;
	my $out = '';
	my @icase = (0);	# one entry per open group
	my @kind = ();		# 'g' plain group, 'x' removed lookaround
	my @at = ();		# length of $out where each group opened
	my $skip = 0;		# > 0 inside a removed lookaround
	my $wide = 0;
	while (length $re) {
		my $t;
		if ($re =~ s/^\(\?([a-z]*)(?:-([a-z]*))?\)//) {
			$icase[-1] = 1 if $1 =~ /i/;
			$icase[-1] = 0 if defined $2 && $2 =~ /i/;
			next;
		} elsif ($re =~ s/^\(\?([a-z]*)(?:-([a-z]*))?://) {
			my $ic = $icase[-1];
			$ic = 1 if $1 =~ /i/;
			$ic = 0 if defined $2 && $2 =~ /i/;
			push @icase, $ic; push @kind, 'g'; push @at, length $out; $t = '(';
		} elsif ($re =~ s/^\(\?(?:P?<[A-Za-z_][A-Za-z0-9_]*>|'[A-Za-z_][A-Za-z0-9_]*'|>)//) {
			$wide = 1 if $& eq '(?>';
			push @icase, $icase[-1]; push @kind, 'g'; push @at, length $out; $t = '(';
		} elsif ($re =~ s/^\(\?<?[=!]//) {
			push @icase, $icase[-1]; push @kind, 'x'; push @at, length $out; $skip++; $wide = 1;
			next;
		} elsif ($re =~ s/^\(//) {
			push @icase, $icase[-1]; push @kind, 'g'; push @at, length $out; $t = '(';
		} elsif ($re =~ s/^\)//) {
			pop @icase;
			my $k = pop @kind // die "unbalanced )\n";
			my $at = pop @at;
			if ($k eq 'x') { $skip--; $re =~ s/^[*+?]\+?// ; next; }
			# grep -E rejects the empty group a removed lookaround leaves.
			if (!$skip && length($out) == $at + 1) {
				substr($out, $at) = '';
				$re =~ s/^(\{\d*(?:,\d*)?\}|[*+?])[?+]?//;
				next;
			}
			$t = ')';
		} elsif ($re =~ s/^\[//) {
			$t = cls(\$re, $icase[-1]);
		} elsif ($re =~ s/^\\([dDsSwW])//) {
			my %m = (d => '[0-9]', D => '[^0-9]', s => '[[:space:]]', S => '[^[:space:]]',
			    w => '[[:alnum:]_]', W => '[^[:alnum:]_]');
			$t = $m{$1};
		} elsif ($re =~ s/^\\([bB])//) {
			$t = "\\$1";
		} elsif ($re =~ s/^\\[Az]//) {
			$t = $& eq '\\A' ? '^' : '$';
		} elsif ($re =~ s/^\\Z//) {
			$t = '$';
		} elsif ($re =~ s/^\\h//) {
			$t = "[ \t]";
		} elsif ($re =~ s/^\\x\{?([0-9a-fA-F]{1,2})\}?//) {
			my $c = chr hex $1;
			$t = $c =~ /[.\[\](){}*+?|^\$\\]/ ? "\\$c" : $c;
		} elsif ($re =~ s/^\\n//) {
			die "newline outside a class\n";
		} elsif ($re =~ s/^\\([1-9])//) {
			$t = "\\$1";
		} elsif ($re =~ s/^\\(.)//s) {
			my $c = $1;
			if (exists $esc{$c}) { $t = $esc{$c}; }
			elsif ($c =~ /[.\[\](){}*+?|^\$\\]/) { $t = "\\$c"; }
			elsif ($icase[-1] && $c =~ /[A-Za-z]/) { $t = '[' . fold_pair($c) . ']'; }
			else { $t = $c; }
		} elsif ($re =~ s/^(\{\d*(?:,\d*)?\}|[*+?])([?+]?)//) {
			$wide = 1 if $2 eq '+';
			$t = $1;
		} else {
			$re =~ s/^(.)//s;
			my $c = $1;
			$t = ($icase[-1] && $c =~ /[A-Za-z]/) ? '[' . fold_pair($c) . ']' : $c;
		}
		$out .= $t unless $skip;
	}
	die "unbalanced (\n" if @kind;
	$broader++ if $wide;
	return $out;
}
