#!/usr/bin/perl
# pcre2ere.pl - turn "ID<TAB>PCRE2" lines into GNU grep -E patterns for the
# benchmark.  Named and non-capturing groups become plain groups, \d becomes
# [0-9], lazy quantifiers become greedy, icase becomes [aA] classes.  Patterns
# using lookaround are dropped (reported on stderr).
use strict;
use warnings;
my $dropped = 0;
while (my $line = <STDIN>) {
	chomp $line;
	my (undef, $re) = split /\t/, $line, 2;
	my $icase = ($re =~ s/^\(\?i\)//);
	if ($re =~ /\(\?<?[=!]/) { $dropped++; next; }
	my $out = '';
	my $inclass = 0;
	while (length $re) {
		if ($re =~ s/^\\([dDsSwWbB])//) {
			my $c = $1;
			my %cls = (d => '0-9', s => '[:space:]', w => '[:alnum:]_');
			if ($inclass) { $out .= $cls{lc $c} // "\\$c"; }
			elsif ($c eq 'd') { $out .= '[0-9]'; }
			elsif ($c eq 'D') { $out .= '[^0-9]'; }
			else { $out .= "\\$c"; }
		} elsif ($re =~ s/^\\x([0-9a-fA-F]{2})//) {
			$out .= chr(hex $1);
		} elsif ($re =~ s/^\\(.)//s) {
			my $c = $1;
			if ($inclass) { $out .= ($c eq ']' || $c eq '\\' || $c eq '-') ? "\\$c" : $c; }
			elsif ($c =~ /[.\[\](){}*+?|^\$\\]/) { $out .= "\\$c"; }
			elsif ($c eq 't') { $out .= "\t"; }
			else { $out .= $c; }
		} elsif (!$inclass && $re =~ s/^\(\?(?:P?<[A-Za-z_][A-Za-z0-9_]*>|:|>)//) {
			$out .= '(';
		} elsif (!$inclass && $re =~ s/^([*+?}])\?//) {
			$out .= $1;
		} elsif (!$inclass && $re =~ s/^\[\^?\]?//) {
			$out .= $&; $inclass = 1;
		} elsif ($inclass && $re =~ s/^\[:[a-z]+:\]//) {
			$out .= $&;
		} elsif ($inclass && $re =~ s/^\]//) {
			$out .= ']'; $inclass = 0;
		} else {
			$re =~ s/^(.)//s;
			my $c = $1;
			if ($icase && !$inclass && $c =~ /[A-Za-z]/) { $out .= '[' . lc($c) . uc($c) . ']'; }
			elsif ($icase && $inclass && $c =~ /[A-Za-z]/) { $out .= lc($c) . uc($c); }
			else { $out .= $c; }
		}
	}
	print "$out\n";
}
print STDERR "pcre2ere: dropped $dropped pattern(s) with lookaround\n" if $dropped;
