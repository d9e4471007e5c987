#!/usr/bin/perl
# SOAP::Lite's WSDL stub, the usage its documentation shows for a described service:
#   my $service = SOAP::Lite->service($wsdl_url); $service->Greet('Ada');
# Prints SOAP::Lite's debug trace: the HTTP request and response, envelopes included.
#   perl soap_lite_stub.pl WSDL_URL
use strict;
use warnings;
use SOAP::Lite +trace => [debug => sub { print @_, "\n" }];

my ($wsdl) = @ARGV;
my $service = SOAP::Lite->service($wsdl);
$service->Greet('Ada');
