#!/usr/bin/perl
# The common scenario (tests/interop/scenario.py) through Perl SOAP::Lite, as its own
# documentation calls a document/literal service (perldoc SOAP::Lite, "DOCUMENT/LITERAL"):
# SOAP::Lite->new(proxy => ...), on_action, autotype(0), default_ns, and call() with
# named SOAP::Data parameters. HTTP Basic is SOAP::Transport's documented way: override
# SOAP::Transport::HTTP::Client::get_basic_credentials (perldoc SOAP::Transport).
# Every choice is explained in tests/interop/test_perl_soap_lite.py.
#   perl soap_lite_driver.pl ENDPOINT SOAP_VERSION PNG TEXT USER PASSWORD
use strict;
use warnings;
use utf8;
use JSON::PP;
use Digest::SHA qw(sha256_hex);
use MIME::Base64 qw(decode_base64);
use SOAP::Lite;

my ($endpoint, $version, $png_path, $text_path, $user, $password) = @ARGV;
my $TNS = 'urn:soap-service:v1';

{
    no warnings 'redefine';
    sub SOAP::Transport::HTTP::Client::get_basic_credentials { return $user => $password }
}

sub slurp {
    my ($path) = @_;
    open my $fh, '<:raw', $path or die "$path: $!";
    local $/;
    return scalar <$fh>;
}

# SOAP 1.1 is the default; on a client already made, soapversion('1.2') loses the
# envelope's namespace (SOAP::Lite 1.27), so the version is set before the client is made
SOAP::Lite->soapversion($version);
my $soap = SOAP::Lite->new(proxy => $endpoint);
$soap->autotype(0);
$soap->default_ns($TNS);

# one call: the operation's SOAPAction (the WSDL's soap:operation), named parameters
sub call {
    my ($operation, @parameters) = @_;
    $soap->on_action(sub { qq("$TNS/$operation") });
    return $soap->call($operation, @parameters);
}

sub result {
    my ($som) = @_;
    die 'unexpected fault: ' . JSON::PP->new->canonical->encode($som->fault) . "\n" if $som->fault;
    return $som->result;
}

# a declared fault, read through SOAP::SOM's fault hash (its faultcode and faultdetail
# accessors know only SOAP 1.1's names): faultcode and detail, or SOAP 1.2's Code, its
# Subcodes and Detail
sub fault {
    my ($som, $detail_name) = @_;
    my $fault = $som->fault or die "no fault\n";
    my ($code, $detail) = ($fault->{faultcode}, $fault->{detail});
    if (my $code12 = $fault->{Code}) {
        my @values;
        for (my $level = $code12; $level; $level = $level->{Subcode}) { push @values, $level->{Value} }
        ($code, $detail) = (join('/', @values), $fault->{Detail});
    }
    my $typed = $detail->{$detail_name} or die "no $detail_name in the fault's detail\n";
    return { code => $code, reason => $typed->{reason}, field => $typed->{field} };
}

my %report;
$report{greet} = result(call('Greet', SOAP::Data->name(name => 'Ada')));

my $utc = result(call('GetTime'));
$report{time_default} = { timezone => $utc->{timezone}, utc => $utc->{utc} };
my $kolkata = result(call('GetTime', SOAP::Data->name(timezone => 'Asia/Kolkata')));
$report{time_zone} = { timezone => $kolkata->{timezone}, local => $kolkata->{local} };

sub person {
    my ($first, $last, $age) = @_;
    return SOAP::Data->name(person => \SOAP::Data->value(
        SOAP::Data->name(first_name => $first),
        SOAP::Data->name(last_name => $last),
        SOAP::Data->name(age => $age),
    ));
}
$report{echo} = [];
for my $who (['Zoë', 'Ñúñez-李', 0], ['Ada', 'Lovelace', 150]) {
    my $echoed = result(call('EchoPerson', person(@$who)));
    push @{ $report{echo} }, [$echoed->{first_name}, $echoed->{last_name}, 0 + $echoed->{age}];
}

my $png = slurp($png_path);
my $receipt = result(call('UploadImage',
    SOAP::Data->name(filename => 'picture.png'),
    SOAP::Data->name(content => $png)->type('base64Binary'),
));
$report{upload} = { map { $_ => $receipt->{$_} } qw(image_id sha256 size_bytes format width height) };

# ListImages: the receipts are repeated ImageReceipt elements, read with SOAP::SOM's valueof
my $token;
PAGE: for (1 .. 1000) {
    my $som = call('ListImages', SOAP::Data->name(page_size => 100),
        (defined $token ? SOAP::Data->name(page_token => $token) : ()));
    result($som);
    for my $listed ($som->valueof('//ListImagesResult/images/ImageReceipt')) {
        if ($listed->{image_id} eq $receipt->{image_id}) {
            $report{listed} = { map { $_ => $listed->{$_} } qw(image_id sha256 size_bytes) };
            last PAGE;
        }
    }
    $token = $som->valueof('//ListImagesResult/next_page_token') or last;
}

my $image = result(call('GetImage', SOAP::Data->name(image_id => $receipt->{image_id})));
# xs:base64Binary arrives as its text: the response carries no xsi:type, and SOAP::Lite
# deserializes by xsi:type, not by the WSDL
my $bytes = decode_base64($image->{content});
$report{image} = {
    image_id => $image->{image_id},
    filename => $image->{filename},
    sha256 => sha256_hex($bytes),
    size_bytes => length $bytes,
};

$report{fault_validation} = fault(call('Greet', SOAP::Data->name(name => ' ')), 'ValidationFaultDetail');
$report{fault_age} = fault(call('EchoPerson', person('Ada', 'Lovelace', 200)), 'ValidationFaultDetail');
$report{fault_zone} = fault(call('GetTime', SOAP::Data->name(timezone => 'Mars/Olympus_Mons')),
    'ValidationFaultDetail');
$report{fault_image} = fault(call('UploadImage',
    SOAP::Data->name(filename => 'notes.txt'),
    SOAP::Data->name(content => slurp($text_path))->type('base64Binary'),
), 'ImageRejectedFaultDetail');

print JSON::PP->new->utf8->canonical->encode(\%report), "\n";
